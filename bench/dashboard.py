"""Dashboard benchmark: page times in headless Chromium with a large model loaded.

``make bench-dashboard`` (``.venv/bin/python bench/dashboard.py``): one seeded synthetic data
set (``bench/export.py``'s ``make_dataset``, written as CSV by ``bench/cli.py``; default 1M
customers x 20k products x 10M lines), a model trained by ``python -m recsys train`` into a
model store, then ``streamlit run app.py`` headless on a free port, started on that data and
model (``RECSYS_START_DATA``, ``RECSYS_START_MODEL``: see ``dashboard/startup.py``).

In Chromium (playwright, ``/usr/bin/chromium``) each page link of the sidebar is clicked in
turn, six rounds; a page counts as rendered when its title shows, Streamlit's status widget,
progress bars and skeletons are gone and, on pages with charts, a plotly chart is drawn, and
all that has held for :data:`SETTLE_MS`. The time is from the click to the start of that
settled state. Printed per page: the first visit (the first computation), the median of the
next five and their max; then the customer explorer's "Random customer" (a new customer's
view), the Evaluation page's default run, and the peak resident memory of the server (its
``VmHWM``, and the largest sum over it and its child processes seen by a 0.2 s poll).
Screenshots of every page go to ``--shots``.

``--customers 100000`` for a quicker run (10k products, 2M lines, as ``bench/cli.py``'s
"100k"); ``--cache-dir DIR`` keeps the data and the model for the next run.

``--upload`` measures the other way in: the app opened on the bundled sample, the data set's
four CSV files uploaded on the Data page in the browser (at 1M customers a 342 MiB purchases
file of 10M lines), then *Load uploaded files*: the upload time, every status the page shows
while it reads, validates and trains (with its second), the time to the success message, the
Customer explorer's first render on the new model and the server's peak memory.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from cli import SIZES, run, write_data  # noqa: E402 - bench/cli.py: same files, same meter

MODEL_NAME = "bench"
SETTLE_MS = 300
CHROMIUM = "/usr/bin/chromium"
# (sidebar link, page title, whether the page draws a plotly chart once rendered)
PAGES = (
    ("Data", "Data", True),
    ("Model", "Model", True),
    ("Customer explorer", "Customer explorer", True),
    ("Rewards", "Rewards", True),
    ("Campaigns", "Campaigns", False),
    ("Evaluation", "Evaluation", False),
    ("Saved models", "Saved models", False),
)
# Resolves with performance.now() at the start of the first window of SETTLE_MS in which the
# page is rendered (see the module docstring); polls every 50 ms.
SETTLED_JS = """([title, charts, settle, timeout, avoid]) => new Promise((resolve, reject) => {
  const t0 = performance.now(); let since = null;
  const ready = () => {
    const h1 = [...document.querySelectorAll('h1')].some(h => h.innerText.trim() === title);
    const busy = document.querySelector(
      '[data-testid=stStatusWidget], [data-testid=stProgress], [data-testid=stSkeleton],'
      + ' [data-testid=stSpinner]');
    const plot = !charts || document.querySelector('.js-plotly-plot .main-svg') !== null;
    const stale = avoid && [...document.querySelectorAll('h2, h3')].some(
      h => h.innerText.trim() === avoid);
    return h1 && !busy && plot && !stale;
  };
  const tick = () => {
    const now = performance.now();
    if (ready()) {
      if (since === null) since = now;
      if (now - since >= settle) return resolve(since);
    }
    else since = null;
    if (now - t0 > timeout) return reject(new Error('not rendered: ' + title));
    setTimeout(tick, 50);
  };
  tick();
})"""


def sizes_for(customers: int) -> tuple[int, int]:
    """Products and purchase lines for a number of customers (``bench/cli.py``'s sizes)."""
    for n_customers, n_products, n_lines in SIZES.values():
        if n_customers == customers:
            return n_products, n_lines
    return max(1_000, customers // 50), customers * 10


def prepare(folder: Path, customers: int, *, train: bool = True) -> Path:
    """Data files and (``train``) a trained model in ``folder``, reused when there; returns the
    store."""
    n_products, n_lines = sizes_for(customers)
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "products.csv").is_file():
        start = time.perf_counter()
        write_data(folder, customers, n_products, n_lines)
        print(f"data written in {time.perf_counter() - start:.0f} s", flush=True)
    print(f"{customers:,} customers x {n_products:,} products x {n_lines:,} lines", flush=True)
    store = folder / "store"
    if train and not (store / f"{MODEL_NAME}.joblib").is_file():
        files = [
            arg
            for name in ("purchases", "rewards", "customers", "products")
            for arg in (f"--{name}", str(folder / f"{name}.csv"))
        ]
        out = store / f"{MODEL_NAME}.joblib"
        run(
            "python -m recsys train",
            [sys.executable, "-m", "recsys", "train", *files, "--out", str(out)],
        )
    return store


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """A ``/proc/PID/status`` memory field in KiB (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            kids = []
        todo.extend(int(k) for k in kids)
    return out


class MemoryPoll(threading.Thread):
    """The largest RSS sum over a process tree, polled every 0.2 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self.stop = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak_kib = max(self.peak_kib, sum(rss_kib(p) for p in tree(self.pid)))
            time.sleep(0.2)


def start_server(store: Path, data: Path | None, port: int) -> subprocess.Popen:
    """``streamlit run app.py`` on ``port``, opened on ``data`` and the store's bench model, or
    (``data`` None) on the bundled sample with its default model, as a new analyst finds it."""
    env = {**os.environ, "RECSYS_MODEL_DIR": str(store)}
    if data is not None:
        env.update(RECSYS_START_DATA=str(data), RECSYS_START_MODEL=MODEL_NAME)
    argv = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
            "--server.port", str(port), "--browser.gatherUsageStats", "false"]  # fmt: skip
    log = open(store.parent / "streamlit.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def timed(
    page, action, title: str, charts: bool, timeout_s: float, avoid: str | None = None
) -> float:
    """Seconds from ``action()`` (a click) to the settled render of page ``title`` (and, with
    ``avoid``, once no subheader reads ``avoid`` any more: the old customer's heading)."""
    start = page.evaluate("performance.now()")
    action()
    settled = page.evaluate(SETTLED_JS, [title, charts, SETTLE_MS, timeout_s * 1000, avoid])
    return (settled - start) / 1000


def nav(page, link: str):
    return lambda: page.locator("[data-testid=stSidebarNav] a", has_text=link).first.click()


def line(label: str, times: list[float]) -> None:
    later = times[1:]
    print(
        f"  {label:<28} first {times[0]:7.2f} s   median of {len(later)} "
        f"{statistics.median(later):6.2f} s   max {max(later):6.2f} s   "
        f"(load {os.getloadavg()[0]:.2f})",
        flush=True,
    )


def browse(url: str, shots: Path, rounds: int, timeout_s: float, evaluate: bool) -> None:
    from playwright.sync_api import sync_playwright

    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        start = time.perf_counter()
        page.goto(url)
        page.evaluate(SETTLED_JS, ["Customer explorer", True, SETTLE_MS, timeout_s * 1000, None])
        print(f"  app start (data + model load) {time.perf_counter() - start:7.1f} s "
              f"(load {os.getloadavg()[0]:.2f})", flush=True)  # fmt: skip
        times: dict[str, list[float]] = {link: [] for link, _, _ in PAGES}
        for round_ in range(rounds):
            for link, title, charts in PAGES:
                seconds = timed(page, nav(page, link), title, charts, timeout_s)
                times[link].append(seconds)
                if round_ == 0:
                    print(f"    first visit {link}: {seconds:.2f} s", flush=True)
                    page.screenshot(
                        path=str(shots / f"{link.replace(' ', '_')}.png"), full_page=True
                    )
        print("pages (click to rendered):", flush=True)
        for link, _, _ in PAGES:
            line(link, times[link])
        timed(page, nav(page, "Customer explorer"), "Customer explorer", True, timeout_s)
        button = page.get_by_role("button", name="Random customer")
        picks = []
        for _ in range(6):
            heading = page.locator("h2, h3", has_text="Customer ").first  # st.subheader: h3
            shown = heading.inner_text(timeout=timeout_s * 1000).strip()
            picks.append(timed(page, button.click, "Customer explorer", True, timeout_s, shown))
        line("new customer (random)", picks)
        page.screenshot(path=str(shots / "Customer_explorer_random.png"), full_page=True)
        if not evaluate:
            browser.close()
            return
        timed(page, nav(page, "Evaluation"), "Evaluation", False, timeout_s)
        run_button = page.get_by_role("button", name="Evaluate current model settings")
        seconds = timed(page, run_button.first.click, "Evaluation", True, timeout_s)
        print(f"  Evaluation, default sample   {seconds:7.1f} s   (load {os.getloadavg()[0]:.2f})",
              flush=True)  # fmt: skip
        page.screenshot(path=str(shots / "Evaluation_run.png"), full_page=True)
        browser.close()


UPLOAD_TABLES = ("purchases", "rewards", "customers", "products")  # the Data page's first inputs
# The Data page's load status (st.status: an expander whose summary ends with "…") and the
# training's progress bar.
STATUS_JS = """() => [
  ...[...document.querySelectorAll('[data-testid=stExpander] summary')]
    .map(e => e.innerText.trim()).filter(t => t.endsWith('…')),
  ...[...document.querySelectorAll('[data-testid=stProgress]')].map(e => e.innerText.trim()),
].filter(t => t).join(' | ')"""
# The outcome of a load: the success message, or the rejection (the column mappers' own
# alerts sit in collapsed expanders and must not count).
LOAD_DONE = (
    '[data-testid="stAlertContentSuccess"]:has-text("retrained"), '
    '[data-testid="stAlertContentError"]:has-text("rejected")'
)


def upload(url: str, folder: Path, shots: Path, timeout_s: float) -> None:
    """The analyst's path with a big file: open the app on the sample, upload the data set's
    four CSV files on the Data page, press *Load uploaded files* and wait for the success
    message; prints the upload time, each status the page shows while it loads and trains
    (with its second), the load + train time and the Customer explorer's first render."""
    from playwright.sync_api import sync_playwright

    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.goto(url)
        page.evaluate(SETTLED_JS, ["Customer explorer", True, SETTLE_MS, timeout_s * 1000, None])
        timed(page, nav(page, "Data"), "Data", True, timeout_s)
        inputs = page.locator('[data-testid="stFileUploader"] input[type="file"]')
        start = time.perf_counter()
        for i, table in enumerate(UPLOAD_TABLES):
            inputs.nth(i).set_input_files(str(folder / f"{table}.csv"))
            page.wait_for_selector(
                f'[data-testid="stFileChipName"]:has-text("{table}.csv")', timeout=timeout_s * 1000
            )
            # The rerun an upload starts redraws the inputs: the next file waits for it.
            page.evaluate(SETTLED_JS, ["Data", False, SETTLE_MS, timeout_s * 1000, None])
        size = sum((folder / f"{t}.csv").stat().st_size for t in UPLOAD_TABLES) / 2**20
        print(f"  upload of the 4 files ({size:,.0f} MiB)  {time.perf_counter() - start:7.1f} s "
              f"(load {os.getloadavg()[0]:.2f})", flush=True)  # fmt: skip
        start = time.perf_counter()
        page.get_by_role("button", name="Load uploaded files", exact=True).click()
        done, shown = LOAD_DONE, ""
        while not page.locator(done).count():
            if time.perf_counter() - start > timeout_s:
                raise SystemExit(f"no result after {timeout_s:.0f} s; last status: {shown}")
            status = page.evaluate(STATUS_JS)
            if status and status != shown:
                print(f"    {time.perf_counter() - start:6.1f} s  {status[:150]}", flush=True)
                shown = status
            time.sleep(0.5)
        outcome = page.locator(done).first.inner_text().strip().splitlines()[-1]  # no icon
        page.evaluate(SETTLED_JS, ["Data", True, SETTLE_MS, timeout_s * 1000, None])
        print(f"  load + train, click to rendered  {time.perf_counter() - start:7.1f} s   "
              f"(load {os.getloadavg()[0]:.2f}): {outcome[:120]}", flush=True)  # fmt: skip
        page.screenshot(path=str(shots / "Data_after_upload.png"), full_page=True)
        seconds = timed(page, nav(page, "Customer explorer"), "Customer explorer", True, timeout_s)
        print(f"  then Customer explorer            {seconds:7.2f} s", flush=True)
        page.screenshot(path=str(shots / "Customer_explorer_after_upload.png"), full_page=True)
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--cache-dir", type=Path, help="keep (and reuse) data and model here")
    parser.add_argument("--shots", type=Path, default=ROOT / "test-artifacts" / "bench-dashboard")
    parser.add_argument("--rounds", type=int, default=6, help="visits per page (first + later)")
    parser.add_argument("--no-evaluation", action="store_true", help="skip the Evaluate run")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per page at most")
    parser.add_argument(
        "--upload",
        action="store_true",
        help="instead of the page rounds: start on the sample and upload the data set's files",
    )
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} cpus, load average {os.getloadavg()} at the start", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        base = args.cache_dir if args.cache_dir is not None else Path(tmp)
        folder = base / str(args.customers)
        store = prepare(folder, args.customers, train=not args.upload)
        port = free_port()
        server = start_server(store, None if args.upload else folder, port)
        poll = MemoryPoll(server.pid)
        poll.start()
        url = f"http://127.0.0.1:{port}/"
        try:
            if args.upload:
                upload(url, folder, args.shots, args.timeout)
            else:
                browse(url, args.shots, args.rounds, args.timeout, not args.no_evaluation)
        finally:  # printed even when a step failed: the memory figure is still worth having
            hwm = rss_kib(server.pid, "VmHWM")
            poll.stop.set()
            server.terminate()
            server.wait(timeout=30)
            print(
                f"  streamlit server peak RSS {hwm / 1024:7.0f} MiB (VmHWM); with child "
                f"processes {poll.peak_kib / 1024:7.0f} MiB (0.2 s poll)",
                flush=True,
            )
        print(f"  load average (1, 5, 15 min): {os.getloadavg()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
