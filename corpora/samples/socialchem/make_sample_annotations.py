"""Writes the SAMPLE annotations shipped for the SOCIAL-CHEM demo (not real crowd data).

The rules of thumb and breakdowns below were written by the corpusforge team for the demo's
advice-forum pages (``corpora.sample_web``, ``forum_pages``); extra annotators' breakdowns are
derived from the written ones with small seeded changes, so agreement has something to
measure. A few answers are wrong on purpose (marked ``# bad on purpose``) to show how the
importer reports and sets aside bad input. Run from the repository root:

    python corpora/samples/socialchem/make_sample_annotations.py
"""

from __future__ import annotations

import csv
import os
import random
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))

from corpora.sample_web import _FORUM_POSTS  # noqa: E402
from corpora.socialchem.annotations import _assignment  # noqa: E402
from corpora.socialchem.situations import MiningConfig, Situation, match_line, normalize  # noqa: E402
from corpora.socialchem.tasks import breakdown_task_id, rot_task_id  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

# situation -> [(rot, judgment, action, categories, foundations, rot-agree, rot-char, agency, action-judgment,
#                action-agree, legal, pressure, action-char, hypothetical)]
ROTS: dict[str, list[tuple]] = {
    "telling my sister her boyfriend is rude to waiters": [
        ("It's good to be honest with family about your concerns.", "It's good", "being honest with family about your concerns",
         "social-norms", "care-harm|loyalty-betrayal", 3, "char-1", "agency", 1, 3, "legal", 1, "char-0", "explicit"),
        ("People should treat service workers with respect.", "People should", "treating service workers with respect",
         "morality-ethics", "care-harm", 4, "char-2", "agency", 2, 4, "legal", 2, "char-2", "explicit-no")],
    "not lending my car to my roommate after she crashed it last year": [
        ("You don't have to lend your things to people who have damaged them before.", "You don't have to",
         "lending your things to people who have damaged them before", "advice", "fairness-cheating", 3, "char-0",
         "agency", 0, 3, "legal", 0, "char-0", "explicit")],
    "skipping my cousin's wedding to attend a job interview": [
        ("It's understandable to put your career first sometimes.", "It's understandable",
         "putting your career first sometimes", "advice", "", 3, "char-0", "agency", 0, 3, "legal", 0, "char-0",
         "hypothetical"),
        ("You should attend family weddings when you can.", "You should", "attending family weddings when you can",
         "social-norms", "loyalty-betrayal", 3, "char-0", "agency", 1, 3, "legal", 1, "char-1", "hypothetical")],
    "asking my husband to split the housework equally": [
        ("Partners should share household chores fairly.", "Partners should", "sharing household chores fairly",
         "social-norms", "fairness-cheating", 4, "char-1", "agency", 1, 4, "legal", 1, "char-1", "explicit")],
    "wanting my parents to knock before entering my room": [
        ("It's reasonable to want privacy in your own room.", "It's reasonable", "wanting privacy in your own room",
         "social-norms", "authority-subversion", 3, "char-0", "experience", 0, 3, "legal", 0, "char-0", "explicit"),
        ("Parents should respect their children's privacy.", "Parents should", "respecting their children's privacy",
         "morality-ethics", "care-harm|authority-subversion", 3, "char-1", "agency", 1, 3, "legal", 1, "char-1",
         "probable-no")],
    "telling my best friend that her fiance is cheating on her": [
        ("It's good to tell a friend if their partner is cheating on them.", "It's good",
         "telling a friend if their partner is cheating on them", "morality-ethics", "loyalty-betrayal|care-harm", 3,
         "char-1", "agency", 1, 3, "legal", 1, "char-0", "hypothetical"),
        ("Cheating on your partner is wrong.", "is wrong", "cheating on your partner", "morality-ethics",
         "loyalty-betrayal|fairness-cheating", 4, "char-2", "agency", -2, 4, "legal", -2, "char-2", "explicit")],
    "eating the leftovers my roommate left in the fridge": [
        ("You shouldn't eat food that belongs to someone else.", "You shouldn't", "eating food that belongs to someone else",
         "social-norms", "fairness-cheating", 4, "char-0", "agency", -1, 4, "legal", -1, "char-0", "explicit"),
        ("It's polite to label your food in a shared fridge.", "It's polite", "labeling your food in a shared fridge",
         "advice", "", 3, "char-1", "agency", 1, 3, "legal", 1, "char-1", "probable-no")],
    "refusing to babysit my nephew every weekend": [
        ("You are not obligated to provide free childcare for relatives.", "You are not obligated",
         "providing free childcare for relatives", "social-norms", "fairness-cheating", 3, "char-0", "agency", 0, 3,
         "legal", 0, "char-0", "explicit"),
        ("It's kind to help family members when they need it.", "It's kind", "helping family members when they need it",
         "social-norms", "care-harm|loyalty-betrayal", 4, "char-0", "agency", 1, 4, "legal", 1, "char-0",
         "probable")],
    "keeping money I found on the street": [
        ("You should try to return lost money to its owner.", "You should", "trying to return lost money to its owner",
         "morality-ethics", "fairness-cheating", 3, "char-0", "agency", 1, 3, "legal", 1, "char-0", "probable-no"),
        ("It's wrong to keep something that isn't yours.", "It's wrong", "keeping something that isn't yours",
         "morality-ethics", "fairness-cheating", 3, "char-0", "agency", -1, 3, "tolerated", -1, "char-0",
         "hypothetical")],
    "reporting my coworker for sleeping at his desk": [
        ("It's fair to expect coworkers to do their share of the work.", "It's fair",
         "expecting coworkers to do their share of the work", "social-norms", "fairness-cheating", 4, "char-1",
         "agency", 1, 4, "legal", 1, "char-1", "explicit"),
        ("You should talk to a coworker before reporting them.", "You should", "talking to a coworker before reporting them",
         "advice", "loyalty-betrayal", 3, "char-1", "agency", 1, 3, "legal", 1, "char-1", "hypothetical")],
    "leaving my friend's birthday party early": [
        ("It's okay to leave a party early if you told the host in advance.", "It's okay",
         "leaving a party early if you told the host in advance", "social-norms", "", 3, "char-0", "agency", 0, 3,
         "legal", 0, "char-0", "explicit")],
    "expecting my brother to pay back the money he borrowed": [
        ("People should pay back money they borrow.", "People should", "paying back money they borrow",
         "morality-ethics", "fairness-cheating", 4, "char-1", "agency", 1, 4, "legal", 2, "char-1", "probable"),
        ("It's wrong to spend on luxuries while you owe someone money.", "It's wrong",
         "spending on luxuries while you owe someone money", "morality-ethics", "fairness-cheating|loyalty-betrayal",
         3, "char-1", "agency", -1, 3, "legal", -1, "char-1", "explicit")],
    "not inviting my stepmother to my graduation": [
        ("You get to choose who attends your own celebration.", "You get to choose",
         "choosing who attends your own celebration", "social-norms", "", 3, "char-0", "agency", 0, 3, "legal", 0,
         "char-0", "explicit"),
        ("It's considerate to include step-parents in family events.", "It's considerate",
         "including step-parents in family events", "social-norms", "care-harm|loyalty-betrayal", 2, "char-1",
         "agency", 1, 2, "legal", 1, "char-1", "probable-no")],
    "asking my neighbor to turn down his music at night": [
        ("It's reasonable to ask neighbors to keep the noise down at night.", "It's reasonable",
         "asking neighbors to keep the noise down at night", "social-norms", "", 4, "char-1", "agency", 1, 4, "legal",
         1, "char-1", "hypothetical"),
        ("You should be considerate of neighbors when playing music.", "You should",
         "being considerate of neighbors when playing music", "social-norms", "care-harm", 4, "char-1", "agency", 1, 4,
         "legal", 1, "char-1", "explicit-no")],
    "reading my partner's messages while she was asleep": [
        ("It's wrong to go through your partner's phone without permission.", "It's wrong",
         "going through your partner's phone without permission", "morality-ethics", "loyalty-betrayal|care-harm", 4,
         "char-0", "agency", -1, 4, "legal", -1, "char-0", "explicit"),
        ("Partners should talk openly about their worries.", "Partners should", "talking openly about their worries",
         "advice", "care-harm", 3, "char-1", "agency", 1, 3, "legal", 1, "char-1", "probable-no")],
    "lying to my boss about being sick": [
        ("It's wrong to lie to your employer.", "It's wrong", "lying to your employer", "morality-ethics",
         "fairness-cheating", 3, "char-0", "agency", -1, 3, "legal", -1, "char-0", "explicit"),
        ("Helping a friend move is a kind thing to do.", "is a kind thing to do", "helping a friend move",
         "description", "care-harm", 4, "char-0", "agency", 1, 4, "legal", 1, "char-0", "explicit")],
    "giving my old bike to a stranger instead of my cousin": [
        ("You can give your belongings to whoever you want.", "You can", "giving your belongings to whoever you want",
         "social-norms", "", 3, "char-0", "agency", 0, 3, "legal", 0, "char-0", "explicit"),
        ("It's good to help people in need.", "It's good", "helping people in need", "morality-ethics", "care-harm", 4,
         "char-1", "agency", 2, 4, "legal", 1, "char-1", "explicit")],
    "telling the teacher that my classmate copied my homework": [
        ("Copying someone else's homework is cheating.", "is cheating", "copying someone else's homework",
         "morality-ethics", "fairness-cheating", 4, "char-2", "agency", -1, 4, "legal", -1, "char-2", "explicit"),
        ("It's good to be honest when a teacher asks you a question.", "It's good",
         "being honest when a teacher asks you a question", "social-norms", "authority-subversion", 3, "char-0",
         "agency", 1, 3, "legal", 1, "char-0", "explicit")],
    "laughing when my friend fell off his chair": [
        ("It's natural to laugh at a harmless accident.", "It's natural", "laughing at a harmless accident",
         "description", "", 2, "char-0", "experience", 0, 2, "legal", 0, "char-0", "explicit"),
        ("You should check that someone is okay before laughing at their fall.", "You should",
         "checking that someone is okay before laughing at their fall", "advice", "care-harm", 4, "char-1", "agency",
         1, 4, "legal", 1, "char-0", "probable-no")],
    "not going to my dad's second wedding": [
        ("It's understandable to avoid an event that causes you pain.", "It's understandable",
         "avoiding an event that causes you pain", "social-norms", "care-harm", 3, "char-0", "agency", 0, 3, "legal", 0,
         "char-0", "hypothetical"),
        ("Parents should not expect children to celebrate their new marriage.", "Parents should not expect",
         "expecting children to celebrate their new marriage", "social-norms", "loyalty-betrayal", 2, "char-1",
         "agency", -1, 2, "legal", -1, "char-1", "probable")],
}
ROT_WORKERS = ["sample-r1", "sample-r2", "sample-r3", "sample-r4"]
BREAKDOWN_WORKERS = ["sample-b1", "sample-b2", "sample-b3", "sample-b4", "sample-b5"]
DIMS = ("rot-categorization", "rot-moral-foundations", "rot-agree", "rot-char-targeting", "action-agency",
        "action-moral-judgment", "action-agree", "action-legal", "action-pressure", "action-char-involved",
        "action-hypothetical")
BREAKDOWN_HEADER = ["task_id", "worker_id", "rot-bad", "rot-judgment", "action"] + list(DIMS)


def situations() -> dict[str, Situation]:
    config = MiningConfig()
    out = {}
    for _, title, _ in _FORUM_POSTS:
        result = normalize(match_line(title), config)
        assert isinstance(result, Situation), (title, result)
        out[result.situation] = result
    missing = set(ROTS) - set(out)
    assert not missing, missing
    return out


def perturb(rng: random.Random, answers: dict[str, str], n_chars: int, heavy: bool) -> dict[str, str]:
    """Another annotator's answers: each dimension changed with some probability (more when ``heavy``)."""
    out = dict(answers)
    p = 0.7 if heavy else 0.18
    for dim in DIMS:
        if rng.random() >= p:
            continue
        v = out[dim]
        if dim in ("rot-agree", "action-agree"):
            out[dim] = str(min(4, max(0, int(v) + rng.choice((-1, 1)))))
        elif dim in ("action-moral-judgment", "action-pressure"):
            out[dim] = str(min(2, max(-2, int(v) + rng.choice((-1, 1)))))
        elif dim in ("rot-char-targeting", "action-char-involved"):
            out[dim] = rng.choice(["char-none"] + [f"char-{i}" for i in range(n_chars)])
        elif dim == "rot-categorization":
            out[dim] = rng.choice(["social-norms", "morality-ethics", "advice", "social-norms|advice"])
        elif dim == "rot-moral-foundations":
            out[dim] = rng.choice(["", "care-harm", "fairness-cheating", "care-harm|fairness-cheating"])
        elif dim == "action-agency":
            out[dim] = "experience" if v == "agency" else "agency"
        elif dim == "action-legal":
            out[dim] = rng.choice(["legal", "tolerated"])
        elif dim == "action-hypothetical":
            scale = ["explicit-no", "probable-no", "hypothetical", "probable", "explicit"]
            i = scale.index(v) + rng.choice((-1, 1))
            out[dim] = scale[min(4, max(0, i))]
    return out


def main() -> None:
    rng = random.Random(101)
    sits = situations()
    rot_rows, breakdown_rows = [], []
    for i, (text, rots) in enumerate(ROTS.items()):
        s = sits[text]
        worker = ROT_WORKERS[i % len(ROT_WORKERS)]
        task = rot_task_id(s.situation_short_id)
        rot_rows.append({"task_id": task, "worker_id": worker, **{f"rot_{n}": r[0] for n, r in enumerate(rots, 1)}})
        assignment = _assignment(task, worker)
        for n, r in enumerate(rots, 1):
            rot_id = f"rot/{s.situation_short_id}/{assignment}/{worker}/{n}"
            answers = dict(zip(("rot-judgment", "action") + DIMS, [str(x) for x in r[1:]], strict=True))
            answers["rot-bad"] = "0"
            k = len({r["task_id"] for r in breakdown_rows})  # RoTs so far
            m = 3 if k % 3 == 1 else 1  # about one RoT in three gets 3 breakdowns
            workers = [BREAKDOWN_WORKERS[(k + j) % len(BREAKDOWN_WORKERS)] for j in range(m)]
            for j, w in enumerate(workers):
                a = answers if j == 0 else perturb(rng, answers, len(s.characters), heavy=(k == 10))
                if k == 7 and j > 0:
                    a = {**a, "rot-bad": "1"}  # two annotators found this RoT confusing
                breakdown_rows.append({"task_id": breakdown_task_id(rot_id), "worker_id": w, **a})
    # bad on purpose: each is reported by import-annotations and set aside
    first = breakdown_rows[0]
    breakdown_rows.append({**first, "worker_id": "sample-b9", "rot-agree": "7"})
    breakdown_rows.append({**breakdown_rows[1], "worker_id": "sample-b9", "action-char-involved": "char-3"})
    breakdown_rows.append({**first, "task_id": "breakdown-task/rot/web/amitheasshole/nosuchid/X/sample-r1/1",
                           "worker_id": "sample-b9"})
    breakdown_rows.append(dict(breakdown_rows[2]))  # the same worker answering the same task twice
    rot_rows.append({"task_id": rot_rows[0]["task_id"], "worker_id": "sample-r9", "rot_1": "Be kind.",
                     "characters_edit": "my brother|narrator"})
    with open(os.path.join(HERE, "rot_answers.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["task_id", "worker_id"] + [f"rot_{n}" for n in range(1, 6)] + ["characters_edit"],
                           lineterminator="\n")
        w.writeheader()
        w.writerows(rot_rows)
    with open(os.path.join(HERE, "breakdown_answers.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, BREAKDOWN_HEADER, lineterminator="\n")
        w.writeheader()
        w.writerows(breakdown_rows)
    print(f"wrote {len(rot_rows)} RoT answers and {len(breakdown_rows)} breakdown answers to {HERE}")


if __name__ == "__main__":
    main()
