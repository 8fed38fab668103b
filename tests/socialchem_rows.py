"""Rows for the SOCIAL-CHEM tests: the three real sample rows and rows the tests generate."""

from __future__ import annotations

import random
from pathlib import Path

from corpora.socialchem.schema import COLUMNS, HEADER

SAMPLE_TSV = Path("/work/shared/reference/social-chem-101.sample.tsv")
_ROOT = Path(__file__).resolve().parents[1]

# The three real rows of social-chem-101.sample.tsv (copied so tests do not depend on a path outside the repo).
REAL_ROWS = [
    "amitheasshole\t1\ttrain\t4\tadvice\tloyalty-betrayal\tchar-1\t0\tit's bad\tdoing something that causes other "
    "people to lose trust in you.\tagency\t-1\t3\tlegal\t-2\tchar-1\thypothetical\tlosing trust in my friend\t"
    "reddit/amitheasshole/aypvmz\tIt's bad to do something that causes other people to lose trust in you.\t"
    "rot/reddit/amitheasshole/aypvmz/3K5TEWLKGYQFYAIY0H6JQMIY5MEIVM/127/2\t127\t0\t2\tnarrator|my friend",
    "amitheasshole\t1\tdev\t3\tsocial-norms\tloyalty-betrayal\tchar-0\t0\texpected\tpeople participating in the "
    "big events in their friends' lives if asked.\tagency\t0\t3\tlegal\t2\tchar-0\texplicit-no\tsaying no to "
    "being a bridesmaid at a friend's wedding\treddit/amitheasshole/9tzn0z\tPeople are expected to participate "
    "in the big events in their friends' lives if asked.\trot/reddit/amitheasshole/9tzn0z/"
    "3EG49X351XRR9FSSYVYCH4PEC656XX/89/1\t89\t39\t3\tnarrator|a bridesmaid|a friend",
    "amitheasshole\t1\ttest\t3\tsocial-norms\tcare-harm|loyalty-betrayal\tchar-1\t0\tPartners should\tListening to "
    "each other's issues.\tagency\t2\t3\tlegal\t2\tchar-1\tprobable\ttelling my boyfriend I am bored and unhappy "
    "at my job\treddit/amitheasshole/a1311q\tPartners should listen to each other's issues.\trot/reddit/"
    "amitheasshole/a1311q/3JV9LGBJWWT6CZ369HK2AIBAUGUGOV/111/2\t111\t145\t2\tnarrator|my boyfriend",
]


# Two mined situations (one with characters) for the task / annotation tests.
SITUATIONS = [
    {"situation": "telling my sister her boyfriend is rude", "situation_short_id": "web/amitheasshole/aaaa1111",
     "area": "amitheasshole", "characters": ["narrator", "my sister", "her boyfriend"]},
    {"situation": "keeping money I found on the street", "situation_short_id": "web/amitheasshole/bbbb2222",
     "area": "amitheasshole"},
]

def real_rows() -> list[dict[str, str]]:
    return [dict(zip(COLUMNS, line.split("\t"), strict=True)) for line in REAL_ROWS]


def tsv(lines: list[str], header: str = HEADER) -> str:
    return "\n".join([header] + lines) + "\n"


def line_of(row: dict[str, str]) -> str:
    return "\t".join(row[c] for c in COLUMNS)


def generated_rows(n_situations: int, rots_per: int = 2, breakdowns: int = 1, seed: int = 0,
                   areas: tuple[str, ...] = ("amitheasshole", "confessions", "dearabby", "rocstories")) -> list[dict]:
    """Valid rows: ``n_situations`` situations, ``rots_per`` RoTs each, ``breakdowns`` rows per RoT."""
    rng = random.Random(seed)
    cats = ["morality-ethics", "social-norms", "advice", "description"]
    mfs = ["care-harm", "fairness-cheating", "loyalty-betrayal", "authority-subversion", "sanctity-degradation"]
    rows = []
    for s in range(n_situations):
        area = areas[s % len(areas)]
        chars = ["narrator"] + [f"my friend {k}" for k in range(rng.randint(0, 2))]
        sid = f"gen/{area}/s{s:05d}"
        for r in range(1, rots_per + 1):
            rot_id = f"rot/{sid}/A{s}/w{r}/{r}"
            for b in range(breakdowns):
                rows.append({
                    "area": area, "m": str(breakdowns), "split": "none", "rot-agree": str(rng.randint(0, 4)),
                    "rot-categorization": "|".join(sorted(rng.sample(cats, rng.randint(1, 2)), key=cats.index)),
                    "rot-moral-foundations": "|".join(sorted(rng.sample(mfs, rng.randint(0, 2)), key=mfs.index)),
                    "rot-char-targeting": f"char-{rng.randrange(len(chars))}", "rot-bad": "0",
                    "rot-judgment": "it's good", "action": f"doing thing {s}-{r}", "action-agency": "agency",
                    "action-moral-judgment": str(rng.randint(-2, 2)), "action-agree": str(rng.randint(0, 4)),
                    "action-legal": rng.choice(["legal", "illegal", "tolerated"]),
                    "action-pressure": str(rng.randint(-2, 2)), "action-char-involved": "char-0",
                    "action-hypothetical": rng.choice(["explicit-no", "probable-no", "hypothetical", "probable",
                                                       "explicit"]),
                    "situation": f"doing thing number {s}", "situation-short-id": sid,
                    "rot": f"It's good to do thing {s}-{r}.", "rot-id": rot_id, "rot-worker-id": f"w{r}",
                    "breakdown-worker-id": f"b{b}", "n-characters": str(len(chars)), "characters": "|".join(chars),
                })
    return rows


def write_tsv(path: Path, rows: list[dict]) -> Path:
    path.write_text(tsv([line_of(r) for r in rows]), encoding="utf-8")
    return path


__all__ = ["REAL_ROWS", "SAMPLE_TSV", "real_rows", "tsv", "line_of", "generated_rows", "write_tsv", "_ROOT"]
