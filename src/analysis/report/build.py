"""`analysis report`: execute the notebooks with papermill, assemble their outputs into one
Markdown document, and render it to PDF (pandoc -> Typst -> typst) and self-contained HTML.

Notebooks run in file-name order with the same parameters. Every output lands in a staging
folder first and is moved into `reports/<id>/` only when all of it succeeded.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from importlib import resources
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Final

from analysis.atomic import clean_leftovers, swap_into_place
from analysis.errors import ReportError
from analysis.escaping import MARKDOWN_READER, check_document, check_html, html_text, md_text, typst_safe
from analysis.fingerprint import digest, library_fingerprint
from analysis.paths import (
    ReleaseLocation,
    display_path,
    notebooks_dir,
    processed_dir,
    project_root,
    reports_dir,
    require_folder,
)
from analysis.progress import Progress
from analysis.reading.ingest import ingest
from analysis.reading.manifest import MANIFEST_NAME
from analysis.report.cache import notebook_key, with_cached_outputs
from analysis.report.kernel import OneKernel
from analysis.report.outputs import OUTPUT_KEY
from analysis.report.parameters import ReportParameters
from analysis.report.workers import die_with_parent

if TYPE_CHECKING:  # nbformat takes seconds to import; a no-op build never needs it
    import nbformat
    from traitlets.config import Config

KERNEL_NAME = "ice-detainers"
PDF_STANDARD: Final = "ua-1"  # accessible PDF: tagged, every figure with alt text
KERNEL_DISPLAY_NAME = "Python (ICE detainers)"
SKIP_EXCEPTION = "SectionSkipped"
PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"  # the banner cells papermill adds around a failure
CACHE_DIR = ".cache"
# Each notebook has its own kernel process; more than the cores only adds contention. Kernels
# hold only DuckDB's small results (each DuckDB capped in `release`), so this holds at every size.
MAX_PARALLEL = 4


@dataclass
class Assembly:
    """Markdown being assembled, with figure and table counters and the files they produced."""

    out_dir: Path
    suffix: str  # of the files published beside the report (`-CA`), as ReportParameters.suffix
    figures: int = 0
    tables: int = 0
    parts: list[str] = field(default_factory=list)
    alt_texts: dict[str, str] = field(default_factory=dict)  # figure path -> its alt text: the only images
    files: list[str] = field(default_factory=list)  # files published beside the report (the codebook)

    def figure(self, meta: dict, data: dict) -> None:
        self.figures += 1
        stem = f"fig{self.figures:02d}-{file_name(meta['name'])}"
        folder = self.out_dir / "figures"
        folder.mkdir(exist_ok=True)
        import base64

        (folder / f"{stem}.svg").write_text(data["image/svg+xml"], encoding="utf-8")
        (folder / f"{stem}.png").write_bytes(base64.b64decode(data["image/png"]))
        caption = f"Figure {self.figures}. {meta['caption']}. Source: {meta['source']}."
        path = f"figures/{stem}.svg"
        self.alt_texts[path] = meta["alt"]
        self.parts.append(f'![{md_text(caption)}]({path}){{width=100% alt="{attribute_text(meta["alt"])}"}}')

    def table(self, meta: dict) -> None:
        self.tables += 1
        stem = f"tab{self.tables:02d}-{file_name(meta['name'])}"
        folder = self.out_dir / "tables"
        folder.mkdir(exist_ok=True)
        (folder / f"{stem}.csv").write_text(meta["csv"], encoding="utf-8")
        caption = f"Table {self.tables}. {meta['caption']}. Source: {meta['source']}."
        self.parts.append(f"{meta['markdown']}\n\n: {md_text(caption)}")

    def file(self, meta: dict) -> None:
        """A CSV published beside the report as `<name><suffix>.csv` (ReportContext.publish_csv)."""
        stem, dot, extension = meta["name"].rpartition(".")
        if not re.fullmatch(r"[A-Za-z0-9_-]+", stem) or extension != "csv":
            raise ReportError(f"a notebook asked to publish {meta['name']!r}: only plain names.csv are published")
        name = f"{stem}{self.suffix}{dot}{extension}"
        (self.out_dir / name).write_text(meta["csv"], encoding="utf-8")
        self.files.append(name)

    def notebook(self, nb: nbformat.NotebookNode) -> None:
        """A notebook's prose and outputs; a section that stopped with SectionSkipped ends at its
        one-sentence reason (the headings and prose after it described what was not run)."""
        for cell in nb.cells:
            tags = cell.get("metadata", {}).get("tags", [])
            if {"parameters", "injected-parameters", PAPERMILL_ERROR_TAG} & set(tags):
                continue
            if cell.cell_type == "markdown":
                self.parts.append(cell.source)
            elif cell.cell_type == "code":
                for output in cell.get("outputs", []):
                    self.output(output)
                if any(o.get("ename") == SKIP_EXCEPTION for o in cell.get("outputs", [])):
                    return

    def output(self, output: dict) -> None:
        if output.get("output_type") not in ("display_data", "execute_result"):
            return  # code, logs, warnings and errors stay in the executed notebook only
        meta = output.get("metadata", {}).get(OUTPUT_KEY)
        if meta and meta.get("kind") == "figure":
            self.figure(meta, output["data"])
        elif meta and meta.get("kind") == "table":
            self.table(meta)
        elif meta and meta.get("kind") == "file":
            self.file(meta)
        elif "text/markdown" in output.get("data", {}):
            self.parts.append(output["data"]["text/markdown"])

    def markdown(self) -> str:
        return "\n\n".join(part.strip() for part in self.parts if part.strip()) + "\n"


def file_name(name: str) -> str:
    """A figure or table name as part of a file name: letters, digits, '-' and '_' only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(name)).strip("-")[:80] or "untitled"


def attribute_text(text: str) -> str:
    """Text as the value of a quoted pandoc attribute (`alt="..."`): taken literally, never as markup."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


ALT_INPUT = "alt:"  # sys.inputs key prefix of a figure's alt text, followed by the figure's path
TYPST_IMAGE = re.compile(r'\bimage\(("figures/(?:[^"\\]|\\.)*")')


def with_alt_texts(typst_body: str) -> str:
    """Pandoc's Typst writer drops an image's alt text: give every `image(...)` an `alt:` read from
    `sys.inputs` (so no data text is pasted into Typst code), keyed by the image path pandoc wrote."""
    return TYPST_IMAGE.sub(lambda m: f'image({m.group(1)}, alt: sys.inputs.at("{ALT_INPUT}" + {m.group(1)})',
                           typst_body)


def ensure_kernel() -> None:
    """Register the project's kernel in this environment if it is not there yet."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        from ipykernel.kernelspec import install

        install(kernel_name=KERNEL_NAME, display_name=KERNEL_DISPLAY_NAME, prefix=sys.prefix)


def list_notebooks() -> list[Path]:
    found = sorted(notebooks_dir().glob("[0-9]*.ipynb"))
    if not found:
        raise ReportError("no notebooks to run (expected files such as 01_release_overview.ipynb)", file=notebooks_dir())
    return found


def kernel_config() -> Config:
    """Configuration of the kernel manager papermill starts: it provisions CurveZMQ keys, so the
    kernel's TCP sockets are encrypted. Without them ipykernel warns on stderr, in the middle of the
    report's progress output, that it runs "over TCP without encryption": a warning nobody running
    a report can act on. ("auto": keys whenever pyzmq and the kernelspec support them.)"""
    import zmq
    from traitlets.config import Config

    policy = "auto" if zmq.has("curve") else "disabled"
    return Config({"KernelManager": {"transport_encryption": policy}})


def execute(source: Path, target: Path, params: ReportParameters, keep_failed_in: Path,
            kernel: OneKernel | None = None) -> nbformat.NotebookNode:
    """Run one notebook with papermill, in a kernel of its own or in `kernel` (reset first); a
    `SectionSkipped` stop is a normal, short section. A failing notebook is copied, executed as
    far as it got, into `keep_failed_in`."""
    import nbformat
    import papermill as pm

    in_kernel = {}
    if kernel is not None:
        kernel.reset()
        in_kernel = kernel.papermill_arguments()
    try:
        pm.execute_notebook(
            str(source), str(target), parameters=params.as_dict(), kernel_name=KERNEL_NAME,
            cwd=str(source.parent), progress_bar=False, log_output=False, config=kernel_config(), **in_kernel,
        )
    except pm.PapermillExecutionError as exc:
        if exc.ename != SKIP_EXCEPTION:
            keep_failed_in.mkdir(parents=True, exist_ok=True)
            kept = keep_failed_in / source.name
            shutil.copy2(target, kept)
            raise ReportError(
                f"failed in {describe_cell(nbformat.read(kept, as_version=4))}: {exc.ename}: {exc.evalue} "
                f"(executed notebook kept at {display_path(kept)}; the previous report is unchanged)",
                file=display_path(source),
            ) from None
    return nbformat.read(target, as_version=4)


def describe_cell(executed: nbformat.NotebookNode) -> str:
    """`code cell 2 (`raise ValueError(...)`)` for the cell whose output is an error: numbered
    among the notebook's own code cells (papermill's injected parameters not counted), with
    the first line of its source."""
    code_number = 0
    for cell in executed.cells:
        if cell.cell_type != "code" or "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        code_number += 1
        if any(output.get("output_type") == "error" for output in cell.get("outputs", [])):
            first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
            return f"code cell {code_number} (`{first[:60]}{'…' if len(first) > 60 else ''}`)"
    return "a cell"


def report_metadata(manifest: dict, params: ReportParameters) -> dict[str, str]:
    periods = [info["period"] for info in manifest["tables"].values() if info.get("period")]
    period = (f"{min(p['first'] for p in periods)} to {max(p['last'] for p in periods)}" if periods else "not stated")
    titles = list(dict.fromkeys(s["title"] for s in manifest["sheets"] if s["title"]))
    source_title = "; ".join(titles[:3]) + (f"; and {len(titles) - 3} more" if len(titles) > 3 else "")
    years = "all in the release"
    if params.fy_start or params.fy_end:
        years = f"FY{params.fy_start or '…'} to FY{params.fy_end or '…'}"
    declined = {"strict": "strict: lift reason 'Detainer Declined by LEA'",
                "broad": "broad: declined by LEA, insufficient notice, or early release"}[params.declined_definition]
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    run_day = dt.datetime.fromtimestamp(int(epoch), dt.UTC).date() if epoch else dt.datetime.now(dt.UTC).date()
    return {
        "title": "ICE detainers and enforcement",
        "subtitle": f"What release {manifest['release']} shows: {params.geography}",
        "release": manifest["release"],
        "foia": ", ".join(manifest.get("foia_numbers") or []) or "not stated in the release",
        "source_title": source_title or "not stated",
        "period": period,
        "as_of": ", ".join(manifest.get("as_of") or []) or "not stated in the release",
        "geography": params.geography,
        "years": years,
        "declined": declined,
        "run_date": run_day.isoformat(),
        "synthetic": "true" if manifest.get("synthetic") else "false",
    }


def parse_report(markdown: str, images: list[str]) -> dict:
    """The assembled Markdown as pandoc's document (JSON), read without raw HTML, LaTeX, math or
    citations and checked: no image but the package's figures, no foreign link (`check_document`)."""
    import pypandoc

    document = json.loads(pypandoc.convert_text(markdown, "json", format=MARKDOWN_READER, extra_args=["--sandbox"]))
    check_document(document, images)
    return document


def render_pdf(document: dict, meta: dict[str, str], build: Path, alt_texts: dict[str, str]) -> bytes:
    import pypandoc
    import typst

    body = pypandoc.convert_text(json.dumps(typst_safe(copy.deepcopy(document))), "typst", format="json",
                                 extra_args=["--wrap=none", "--sandbox"])
    body = body.replace("align(center)[#table(", "align(left)[#table(")  # tables align with their captions
    body = with_alt_texts(body)
    template = resources.files("analysis").joinpath("report/templates/report.typ").read_text(encoding="utf-8")
    source = build / "report.typ"
    source.write_text(template + "\n" + body, encoding="utf-8")
    try:
        # PDF/UA-1: a tagged PDF (structure, reading order, document title and language) whose every
        # figure has alt text; typst refuses to write it otherwise.
        inputs = {**meta, **{f"{ALT_INPUT}{path}": text for path, text in alt_texts.items()}}
        return typst.compile(str(source), root=str(build), sys_inputs=inputs, ignore_system_fonts=True,
                             pdf_standards=PDF_STANDARD)
    except Exception as exc:  # noqa: BLE001 - typst reports errors as its own exception types
        raise ReportError(f"typst could not compile the report: {str(exc).splitlines()[0]}", file=str(source)) from None


def render_html(document: dict, meta: dict[str, str], build: Path) -> str:
    """Self-contained HTML. Pandoc embeds what the page refers to; after `parse_report` that is
    the package's own figures and stylesheet in the build folder, nothing else, and `check_html`
    makes sure the finished page holds no script, event handler or outside reference."""
    import pypandoc

    css = resources.files("analysis").joinpath("report/templates/report.css").read_text(encoding="utf-8")
    (build / "report.css").write_text(css, encoding="utf-8")
    (build / "before.html").write_text(html_title_block(meta), encoding="utf-8")
    page = pypandoc.convert_text(
        json.dumps(document), "html5", format="json",
        extra_args=["--standalone", "--embed-resources", "--toc", "--toc-depth=2", "--number-sections",
                    f"--metadata=pagetitle:{meta['title']}: {meta['release']}", "--css=report.css",
                    "--include-before-body=before.html", f"--resource-path={build}", "--wrap=none"],
        cworkdir=str(build),
    )
    check_html(page)
    return page


def html_title_block(meta: dict[str, str]) -> str:
    rows = [("Release", meta["release"]), ("FOIA number", meta["foia"]), ("Produced as", meta["source_title"]),
            ("Period covered", meta["period"]), ("Data as of", meta["as_of"]), ("Geography", meta["geography"]),
            ("Fiscal years", meta["years"]), ("Declined detainers", meta["declined"]), ("Report run", meta["run_date"])]
    table = "\n".join(f"<tr><th>{html_text(k)}</th><td>{html_text(v)}</td></tr>" for k, v in rows)
    banner = ('<div class="synthetic">SYNTHETIC DATA: every record in this report was invented by the '
              "package's sample generator. No number here describes real people, jails or agencies.</div>"
              if meta["synthetic"] == "true" else "")
    return (f'{banner}<header class="title-block"><h1 class="title">{html_text(meta["title"])}</h1>'
            f'<p class="subtitle">{html_text(meta["subtitle"])}</p><table>{table}</table></header>\n')


@dataclass(frozen=True)
class ReportPaths:
    """Where one report's files go. A report of its own lives in reports/<id>/ with its geography
    in every name (report-CA.pdf, figures-CA/); a report of a batch (`--each`) in a folder of its
    own (by-state/CA/report.pdf, figures/). Both use the release's one notebook cache, whose entries
    are named by the parameters' suffix, so the two kinds of run share executed notebooks."""

    out: Path
    suffix: str
    notebook_cache: Path
    cache_suffix: str

    @classmethod
    def of(cls, params: ReportParameters, folder: Path | None = None) -> ReportPaths:
        release_dir = reports_dir(params.release)
        cache = release_dir / CACHE_DIR / "notebooks"
        if folder is None:
            return cls(release_dir, params.suffix, cache, params.suffix)
        return cls(folder, "", cache, params.suffix)

    @property
    def pdf(self) -> Path:
        return self.out / f"report{self.suffix}.pdf"

    @property
    def html(self) -> Path:
        return self.out / f"report{self.suffix}.html"

    @property
    def key_file(self) -> Path:
        return self.out / CACHE_DIR / f"report{self.suffix}.key"

    @property
    def failure_note(self) -> Path:
        return self.out / f"FAILED{self.suffix}.txt"

    @property
    def failed_dir(self) -> Path:
        return self.out / f"failed{self.suffix}"

    def is_current(self, report_key: str) -> bool:
        key_file = self.key_file
        return (key_file.is_file() and key_file.read_text() == report_key
                and self.pdf.is_file() and self.html.is_file())


@dataclass(frozen=True)
class ReportPlan:
    """What a report is made from: the notebooks, each one's cache key, the title-block metadata,
    and the key of the whole report (unchanged key, unchanged report)."""

    sources: dict[Path, dict]
    keys: dict[Path, str]
    meta: dict[str, str]
    report_key: str


def plan_report(manifest: dict, params: ReportParameters) -> ReportPlan:
    manifest_bytes = (processed_dir(params.release) / MANIFEST_NAME).read_bytes()
    sources = {path: json.loads(path.read_text(encoding="utf-8")) for path in list_notebooks()}
    keys = {path: notebook_key(nb, params.as_dict(), manifest_bytes) for path, nb in sources.items()}
    meta = report_metadata(manifest, params)
    report_key = digest(*[item for path in sources for item in (path.name, keys[path], path.read_bytes())],
                        json.dumps(meta, sort_keys=True), library_fingerprint())
    return ReportPlan(sources, keys, meta, report_key)


def report_is_current(manifest: dict, params: ReportParameters, folder: Path | None = None) -> bool:
    """Whether `build_report` would find nothing to do (it checks again itself)."""
    return ReportPaths.of(params, folder).is_current(plan_report(manifest, params).report_key)


def build_report(location: ReleaseLocation, params: ReportParameters, *, force: bool = False,
                 progress: Progress | None = None, folder: Path | None = None, one_kernel: bool = False) -> Path:
    """Ingest if needed, run the notebooks whose inputs changed, and write report{suffix}.pdf/.html
    with figures, tables and executed notebooks (in `folder`, named without the suffix, if given).
    `one_kernel` runs the notebooks one after the other in one kernel (see `report.kernel`), for
    batches that run several reports at once. Returns the PDF's path."""
    progress = progress or Progress(quiet=True)
    paths = ReportPaths.of(params, folder)
    require_folder(paths.out.parent, ReportError)
    require_folder(paths.out, ReportError)
    manifest = ingest(location, force=force, progress=progress)
    os.environ["ANALYSIS_ROOT"] = str(project_root())  # the kernels find the same project
    out, suffix = paths.out, paths.suffix
    label = f"report {params.release}{params.suffix}"
    plan = plan_report(manifest, params)
    if not force and paths.is_current(plan.report_key):
        progress.say(f"{label}: up to date ({display_path(paths.pdf)})")
        return paths.pdf
    out.mkdir(parents=True, exist_ok=True)
    clean_leftovers(out)
    build = out / f".build{suffix}-{os.getpid()}"
    shutil.rmtree(build, ignore_errors=True)
    (build / "notebooks").mkdir(parents=True)
    try:
        parallel = 1 if one_kernel else MAX_PARALLEL
        executed = run_notebooks(plan.sources, plan.keys, params, build, paths, force=force, progress=progress,
                                 label=label, parallel=parallel, one_kernel=one_kernel)
        assembly = Assembly(build, suffix)
        for path in plan.sources:
            assembly.notebook(executed[path])
        with progress.step(f"{label}: PDF and HTML"):
            document = parse_report(assembly.markdown(), list(assembly.alt_texts))
            pdf = render_pdf(document, plan.meta, build, assembly.alt_texts)
            page = render_html(document, plan.meta, build)
        (build / f"report{suffix}.pdf").write_bytes(pdf)
        (build / f"report{suffix}.html").write_text(page, encoding="utf-8")
        publish(build, out, suffix, assembly.files)
        paths.failure_note.unlink(missing_ok=True)
        shutil.rmtree(paths.failed_dir, ignore_errors=True)
        paths.key_file.write_text(plan.report_key)
    except ReportError as error:
        paths.failure_note.write_text(error.one_line() + "\n", encoding="utf-8")
        raise
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return paths.pdf


def run_notebooks(sources: dict[Path, dict], keys: dict[Path, str], params: ReportParameters,
                  build: Path, paths: ReportPaths, *, force: bool, progress: Progress, label: str,
                  parallel: int = MAX_PARALLEL, one_kernel: bool = False) -> dict[Path, nbformat.NotebookNode]:
    """Executed notebooks, from the cache where a notebook's key is unchanged, otherwise run
    (in parallel across the machine's cores, or one after the other in one kernel). Each is also
    written to build/notebooks/."""
    import nbformat

    cache = paths.notebook_cache
    cache.mkdir(parents=True, exist_ok=True)
    suffix = paths.cache_suffix
    total = len(sources)
    executed: dict[Path, nbformat.NotebookNode] = {}
    to_run = []
    for index, path in enumerate(sources, start=1):
        hit = cache / f"{path.stem}{suffix}.{keys[path][:24]}.ipynb"
        if hit.is_file() and not force:
            executed[path] = with_cached_outputs(sources[path], nbformat.read(hit, as_version=4))
            progress.say(f"{label}: [{index}/{total}] {path.name}: cached")
        else:
            to_run.append(path)
    if to_run:
        ensure_kernel()
    kernel_log = paths.out / CACHE_DIR / f"kernel{paths.suffix}.log" if one_kernel else None
    alone = {path for path in to_run if runs_alone(sources[path])}
    for path in execute_all(to_run, params, build, paths.failed_dir, progress, label, total, list(sources),
                            parallel, kernel_log, alone):
        executed[path] = nbformat.read(build / "notebooks" / path.name, as_version=4)
        for stale in cache.glob(f"{path.stem}{suffix}.*.ipynb"):
            stale.unlink()
        shutil.copy2(build / "notebooks" / path.name, cache / f"{path.stem}{suffix}.{keys[path][:24]}.ipynb")
    for path, notebook in executed.items():
        nbformat.write(notebook, build / "notebooks" / path.name)
    return executed


def _execute_one(source: str, target: str, params: dict, failed_dir: str, kernel: OneKernel | None = None) -> float:
    """Worker: run one notebook; returns seconds taken (a ReportError propagates)."""
    started = time.perf_counter()
    execute(Path(source), Path(target), ReportParameters(**params), Path(failed_dir), kernel)
    return time.perf_counter() - started


def runs_alone(notebook: dict) -> bool:
    """Whether a notebook asks to run while no other notebook runs (its metadata's
    `analysis.runs_alone` says why): one whose query needs more memory than a kernel's share."""
    return bool(notebook.get("metadata", {}).get("analysis", {}).get("runs_alone"))


def execute_all(paths: list[Path], params: ReportParameters, build: Path, failed_dir: Path, progress: Progress,
                label: str, total: int, order: list[Path], parallel: int = MAX_PARALLEL,
                kernel_log: Path | None = None, alone: set[Path] | frozenset[Path] = frozenset()) -> list[Path]:
    """Run notebooks, several at once when the machine has the cores (those in `alone` after the
    others, one at a time), or one after the other in one kernel when `kernel_log` (where that
    kernel's own messages go) is given; all run to the end, and the first failure in file-name
    order is raised."""
    if not paths:
        return []
    errors: dict[Path, ReportError] = {}

    def finished(path: Path, seconds: float | None, error: ReportError | None) -> None:
        position = order.index(path) + 1
        if error is None:
            progress.say(f"{label}: [{position}/{total}] {path.name}: executed in {seconds:.1f} s")
        else:
            errors[path] = error
            progress.say(f"{label}: [{position}/{total}] {path.name}: FAILED")

    jobs: dict[Path, Job] = {path: (str(path), str(build / "notebooks" / path.name), params.as_dict(), str(failed_dir))
                             for path in paths}
    if kernel_log:
        with OneKernel(KERNEL_NAME, notebooks_dir(), kernel_log, kernel_config()) as kernel:
            for path in paths:
                _execute_in(kernel, path, jobs[path], finished)
    else:
        together = [path for path in paths if path not in alone]
        for group, workers in ((together, min(len(together), os.cpu_count() or 1, parallel)),
                               ([path for path in paths if path in alone], 1)):
            _execute_group(group, workers, jobs, finished, progress, label)
    if errors:
        raise errors[min(errors, key=order.index)]
    return paths


Job = tuple[str, str, dict, str]  # `_execute_one`'s arguments: notebook, output, parameters, failed folder


def _execute_in(kernel: OneKernel | None, path: Path, job: Job, finished: Callable) -> None:
    try:
        finished(path, _execute_one(*job, kernel), None)
    except ReportError as error:
        finished(path, None, error)


def _execute_group(paths: list[Path], workers: int, jobs: dict[Path, Job], finished: Callable, progress: Progress,
                   label: str) -> None:
    """Notebooks each in a kernel of its own, `workers` at a time (in this process when one)."""
    if not paths:
        return
    if workers <= 1:
        for path in paths:
            _execute_in(None, path, jobs[path], finished)
        return
    progress.say(f"{label}: running {len(paths)} notebook(s), {workers} at a time")
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(_execute_one, *jobs[path]): path for path in paths}
        for future in as_completed(futures):
            try:
                finished(futures[future], future.result(), None)
            except ReportError as error:
                finished(futures[future], None, error)


def publish(build: Path, out: Path, suffix: str, files: Sequence[str] = ()) -> None:
    """Move finished outputs into place: folders by rename, files by atomic replace."""
    for folder in ("figures", "tables", "notebooks"):
        final = out / f"{folder}{suffix}"
        staged = build / folder
        if not staged.exists():
            staged.mkdir()
        swap_into_place(staged, final)
    for name in (*files, f"report{suffix}.pdf", f"report{suffix}.html"):
        os.replace(build / name, out / name)
