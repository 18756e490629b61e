"""The one engine API that the CLI and the TUI both call.

    engine = Engine(root, config)
    for event in engine.iter_scan():   # ScanStarted, FileScanned..., ScanFinished
        ...
    report = engine.apply(findings)     # atomic, validated writes

Scanning a file is a pure function of (file, config): ``scan_file``. The engine only walks,
orders, and collects.

A crash is contained like ruff's "panicked while linting FILE": an exception raised by a rule
(or by the parser, or anywhere in one file's scan, in this process or in a pool worker) becomes a
``Diagnostic(kind=INTERNAL)`` for that file, naming the exception in one line, and the scan goes
on. Set ``MIGRATE_TUI_DEBUG=1`` to also print the traceback on stderr.
"""

from __future__ import annotations

import functools
import gc
import os
import sys
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence, cast

from migrate_tui.rules import DockerfileRule, PodSpecRule, Rule, all_rules, rule_codes
from migrate_tui.repo.config import Config
from migrate_tui.analysis.context import PodSpecSubject, Project, RuleContext
from migrate_tui.repo.discover import Candidate, FileKind, classify, discover
from migrate_tui.model.findings import Applicability, Diagnostic, DiagnosticKind, Finding, exception_summary
from migrate_tui.parse.podspec import find_pod_specs
from migrate_tui.repo.sources import SourceFile, _rel_below, read_source
from migrate_tui.pipeline.suppress import parse_suppressions
from migrate_tui.parse.yamldoc import YamlError, load_documents, template_line

if TYPE_CHECKING:
    import multiprocessing.pool
    import queue
    from multiprocessing.context import BaseContext

    from migrate_tui.analysis.links.index import LinkIndex, Walked, WalkRecord
    from migrate_tui.parse.yamldoc import YamlDocument
    from migrate_tui.rules import DockerfileSubject
    from migrate_tui.pipeline.cache import CacheEntry, Dep, ScanCache
    from migrate_tui.pipeline.suppress import Suppressions
    from migrate_tui.write.writer import WriteReport

    # what scanning one file gives: (findings, diagnostics, source (when it has findings or was
    # read for the cache), cache entry | None | _UNCHANGED)
    Outcome = tuple[list[Finding], list[Diagnostic], SourceFile | None, "CacheEntry | _Unchanged | None"]
    Pending = tuple[str, FileKind, "CacheEntry | None"]  # (path, kind, cache entry) sent to a worker


@dataclass(frozen=True)
class ScanStarted:
    total: int


@dataclass(frozen=True)
class FileScanned:
    index: int
    total: int
    path: str
    findings: tuple[Finding, ...]
    diagnostics: tuple[Diagnostic, ...]
    source: SourceFile | None = None  # the text the findings were planned on (when there are any)


@dataclass
class ScanResult:
    root: Path
    findings: list[Finding] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files_scanned: int = 0
    seconds: float = 0.0
    sources: dict[str, SourceFile] = field(default_factory=dict)

    @property
    def fixable(self) -> list[Finding]:
        return [f for f in self.findings if f.fixable]

    def counts(self) -> dict[str, int]:
        out = {a.value: 0 for a in Applicability}
        for finding in self.findings:
            out[finding.applicability.value] += 1
        return out


@dataclass(frozen=True)
class ScanFinished:
    result: ScanResult


ScanEvent = ScanStarted | FileScanned | ScanFinished


ProgressHook = Callable[[FileScanned], None]

# Below this many candidate files a process pool costs more than it saves (start-up, pickling).
PARALLEL_THRESHOLD = 1000
_BATCH = 32  # files per task sent to a worker: coarse enough for pickling, fine enough for progress


class Engine:
    """Walks, orders and collects; ``scan_file`` does the work.

    ``jobs``: worker processes for the scan (1: in this process; None or 0: one per CPU when the
    tree has at least ``PARALLEL_THRESHOLD`` files). Results come back in discovery order
    whatever the number of jobs. ``cache``: reuse per-file results of earlier runs
    (``pipeline.cache``; True for the default location, or a directory). ``on_progress`` is called
    with every ``FileScanned`` event, including the scans ``fix()`` runs.
    """

    def __init__(
        self,
        root: Path,
        config: Config | None = None,
        *,
        paths: Sequence[Path] | None = None,
        mode: str | None = None,
        jobs: int | None = None,
        cache: bool | Path = False,
        on_progress: ProgressHook | None = None,
    ) -> None:
        self.root = root.resolve()
        self.config = config or Config()
        self.paths = list(paths) if paths else None
        self.mode = mode or self.config.mode
        self.project = _TrackingProject(self.root, self.config)
        self.jobs = jobs
        self.cache = cache
        self.on_progress = on_progress

    def source_of(self, result: ScanResult, path: str) -> SourceFile | None:
        """``path`` as the scan read it (the text its fixes were planned on), else as the project
        reads it now; None when it can't be read."""
        source = result.sources.get(path)
        if source is not None:
            return source
        found = self.project.read(path)
        return found if isinstance(found, SourceFile) else None

    def renewed(self, *, mode: str | None = None) -> Engine:
        """The same settings with a clean project cache (files changed since), optionally another mode."""
        return Engine(
            self.root, self.config, paths=self.paths, mode=mode or self.mode, jobs=self.jobs, cache=self.cache, on_progress=self.on_progress
        )

    @property
    def context(self) -> RuleContext:
        return RuleContext(self.root, self.config, self.config.target, self.mode, self.project)

    def rules(self) -> list[Rule]:
        return [rule for code, rule in sorted(all_rules().items()) if self.config.rule_enabled(code)]

    def rule_codes(self) -> tuple[str, ...]:
        """The enabled rules' codes, without importing the rule modules."""
        return tuple(code for code in rule_codes() if self.config.rule_enabled(code))

    def discover(self) -> tuple[list[Candidate], list[Diagnostic]]:
        candidates: list[Candidate] = []
        diagnostics: list[Diagnostic] = []
        for item in discover(self.root, self.paths, excludes=self.config.exclude, use_gitignore=self.config.respect_gitignore):
            if isinstance(item, Diagnostic):
                diagnostics.append(item)
            else:
                candidates.append(item)
        return candidates, diagnostics

    def workers_for(self, count: int) -> int:
        if self.jobs is not None and self.jobs > 0:
            return max(1, min(self.jobs, (count + _BATCH - 1) // _BATCH or 1))
        if count < PARALLEL_THRESHOLD:
            return 1
        return max(1, min(os.cpu_count() or 1, 8))

    def _enough_to_decide(self) -> int:
        """How many candidates fix ``workers_for``: it gives the same answer for any count above."""
        if self.jobs is not None and self.jobs > 0:
            return self.jobs * _BATCH
        return PARALLEL_THRESHOLD

    def iter_scan(self) -> Iterator[ScanEvent]:
        with _fewer_collections():
            yield from self._iter_scan()

    def _iter_scan(self) -> Iterator[ScanEvent]:
        started = time.perf_counter()
        store = self._open_cache()
        listed: list[tuple[str, bool]] = []  # (directory, its .gitignore read): what the link index stamps
        whole_root = self.paths is None
        walk_started_ns = time.time_ns()
        # Without a result cache (or with an empty one) every file is scanned: the rules are
        # imported while a forked child checks the link cache's stamps (less time before the
        # workers start). A scan the result cache may answer imports none.
        cold = store is None or not store.entries
        kept, keep_this_walk = self._kept_walk(self.rules if cold else None) if whole_root else (None, False)
        walk: Iterator[Candidate | Diagnostic]
        if kept is not None:
            walk = iter(kept)
        else:
            walk = discover(
                self.root,
                self.paths,
                excludes=self.config.exclude,
                use_gitignore=self.config.respect_gitignore,
                on_dir=(lambda directory, gitignore: listed.append((directory, gitignore))) if whole_root else None,
            )
        candidates: list[Candidate] = []
        early: list[Diagnostic] = []

        def finish_walk() -> WalkRecord:
            """The rest of the walk, now: a link index built before the fork (a fresh tree, no
            valid link cache) reads the walk's files instead of walking the tree a second time."""
            from migrate_tui.analysis.links.index import WalkRecord

            for item in walk:
                if isinstance(item, Diagnostic):
                    early.append(item)
                else:
                    candidates.append(item)
            return WalkRecord([_rel_of(self.root, c) for c in candidates], listed, not early, walk_started_ns)

        if kept is not None:
            yield ScanStarted(len(kept))  # the count at once (the TUI shows it while the pool starts)
        decide_at = self._enough_to_decide()
        for item in walk:
            if isinstance(item, Diagnostic):
                early.append(item)
            else:
                candidates.append(item)
            if len(candidates) >= decide_at:
                break
        workers = self.workers_for(len(candidates))
        if workers > 1 and not self.jobs and store is not None and _mostly_unchanged(store, self.root, candidates):
            workers = 1  # a warm scan stats files: a pool would cost more than it saves
        feeder = None
        outcomes: Iterator[Outcome]
        if workers > 1:
            # The pool starts, and works, while the rest of the tree is walked.
            # every Dockerfile rule asks for the link index: built once here, before the fork,
            # rather than once in every worker
            feeder = _Feeder(
                self,
                store,
                workers,
                preload_links=any(c.kind is FileKind.DOCKERFILE for c in candidates),
                walked=finish_walk if whole_root else None,
            )
            outcomes = feeder.outcomes()
            try:
                feeder.add(candidates)
                for item in walk:
                    if isinstance(item, Diagnostic):
                        early.append(item)
                    else:
                        candidates.append(item)
                        feeder.add((item,))
                feeder.finish()
            except BaseException:
                feeder.stop()
                raise
        else:
            for item in walk:
                if isinstance(item, Diagnostic):
                    early.append(item)
                else:
                    candidates.append(item)
            scanner = _Scanner(self.rules, self.context, caching=store is not None)
            outcomes = (scanner.scan(c.path_str, c.kind, store.entry_for(_rel_of(self.root, c)) if store else None) for c in candidates)
        try:
            result = ScanResult(self.root, diagnostics=list(early))
            if kept is None:
                yield ScanStarted(len(candidates))
            for index, (candidate, outcome) in enumerate(zip(candidates, outcomes), start=1):
                findings, diagnostics, source, entry = outcome
                if source is not None and findings:
                    result.sources[source.path] = source
                rel = _rel_of(self.root, candidate)
                if store is not None and entry is not _UNCHANGED:
                    store.put(rel, cast("CacheEntry | None", entry))  # (not _UNCHANGED: mypy can't narrow by identity)
                result.findings += findings
                result.diagnostics += diagnostics
                result.files_scanned += 1
                event = FileScanned(index, len(candidates), rel, tuple(findings), tuple(diagnostics), source if findings else None)
                if self.on_progress is not None:
                    self.on_progress(event)
                yield event
        finally:
            close = getattr(outcomes, "close", None)
            if close is not None:
                close()  # stops the pool when the caller abandons the scan
            if feeder is not None:
                feeder.stop()  # (a no-op once the pool has finished)
        if store is not None:
            store.save()
        if keep_this_walk and not early:
            from migrate_tui.analysis.links.index import keep_walk

            keep_walk(self.root, self.config, finish_walk())  # (the walk is over: this only reads it)
        result.findings.sort(key=lambda f: (f.location.path, f.location.line, f.rule))
        result.diagnostics.sort()
        result.seconds = time.perf_counter() - started
        yield ScanFinished(result)

    def _kept_walk(self, meanwhile: Callable[[], object] | None = None) -> tuple[list[Candidate] | None, bool]:
        """(the files a walk of the whole root finds, as the link cache kept them while its stamps
        (every directory listed, every .gitignore read) hold, or None: walk; whether the cache
        holds and may keep this scan's walk at the end). Its index is adopted on the way.
        ``meanwhile``: what to do while a forked child checks the stamps of a big tree."""
        if self.project.has_links():
            return None, False  # a rescan (``fix``): the index of the first scan stays, the tree is walked
        from migrate_tui.analysis.links.index import cached_scan

        try:
            found = cached_scan(self.root, self.config, meanwhile=meanwhile)
        except Exception:  # noqa: BLE001 - a cache is an optimisation: any trouble means walk
            return None, False
        if found is None:
            return None, False
        self.project.adopt_links(found.index)
        if found.files is None:
            return None, found.retry
        prefix = os.path.join(str(self.root), "")
        out = []
        for rel in found.files:
            kind = classify(rel.rpartition("/")[2])
            if kind is None:
                return None, False  # (not what this discovery code keeps: walk)
            out.append(Candidate(prefix + rel, kind, rel))
        return out, False

    def _open_cache(self) -> ScanCache | None:
        if not self.cache:
            return None
        from migrate_tui.pipeline.cache import ScanCache, fingerprint_of

        directory = self.cache if isinstance(self.cache, Path) else None
        return ScanCache(self.root, fingerprint_of(self.config, self.mode, self.rule_codes()), directory)

    def scan(self) -> ScanResult:
        result = None
        for event in self.iter_scan():
            if isinstance(event, ScanFinished):
                result = event.result
        assert result is not None
        return result

    def apply(self, findings: Iterable[Finding], *, unsafe: bool = False, sources: dict[str, SourceFile] | None = None) -> WriteReport:
        from migrate_tui.write.writer import apply_fixes

        return apply_fixes(self.root, list(findings), self.config.target, unsafe=unsafe, sources=sources)

    def fix(
        self, *, unsafe: bool = False, max_rounds: int = 10, keep: Callable[[Finding], bool] | None = None
    ) -> tuple[WriteReport, ScanResult]:
        """Scan, apply, re-scan until nothing more applies (fixes that overlapped wait a round).

        ``keep`` selects the findings whose fixes may be applied (e.g. not those in a baseline).
        """
        from migrate_tui.write.writer import WriteReport

        total = WriteReport()
        result = self.scan()
        for _ in range(max_rounds):
            chosen = [f for f in result.findings if keep is None or keep(f)]
            report = self.apply(chosen, unsafe=unsafe, sources=result.sources)
            total.merge(report)
            if not report.written:
                break
            result = self.scan()
        return total, result


#: the cyclic collector's thresholds while a scan runs: it allocates millions of short-lived
#: objects (YAML nodes, parsed instructions) that reference counting frees and hardly any cycle,
#: so the default first threshold (700) ran ~300 collections, two of them over the whole heap,
#: ~7 % of a one-process scan's CPU
SCAN_GC_THRESHOLD = (20_000, 20, 20)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Raise the collector's thresholds (never lower them) for a scan on the main thread; restore
    them after. (A scan on another thread, the TUI's, leaves the process's settings alone.)"""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = gc.get_threshold()
    gc.set_threshold(*(max(a, b) for a, b in zip(before, SCAN_GC_THRESHOLD)))
    try:
        yield
    finally:
        gc.set_threshold(*before)


class _TrackingProject(Project):
    """A Project that records what a rule looked at beyond its own file (other files, whether
    they exist, the link index), so a cached result is reused only while all of it still holds."""

    deps: list[Dep] | None = None
    _links_fp: str | None = None

    def read(self, rel: str) -> SourceFile | Diagnostic:
        found = super().read(rel)
        if self.deps is not None:
            self.deps.append(("read", rel, found.digest if isinstance(found, SourceFile) else None))
        return found

    def exists(self, rel: str) -> bool:
        found = super().exists(rel)
        if self.deps is not None:
            self.deps.append(("exists", rel, found))
        return found

    def links(self, walked: Walked | None = None) -> LinkIndex:
        index = super().links(walked)
        if self.deps is not None:
            self.deps.append(("links", self.links_fingerprint()))
        return index

    def adopt_links(self, index: LinkIndex) -> None:
        """Use ``index``, built (or loaded from the cache) for this root and configuration."""
        self._links = index

    def has_links(self) -> bool:
        return self._links is not None

    def links_fingerprint(self) -> str:
        if self._links_fp is None:
            self._links_fp = super().links().compute_fingerprint()
        return self._links_fp

    def still_holds(self, deps: Iterable[Dep]) -> bool:
        saved, self.deps = self.deps, None
        try:
            for dep in deps:
                if dep[0] == "read":
                    found = Project.read(self, dep[1])
                    if (found.digest if isinstance(found, SourceFile) else None) != dep[2]:
                        return False
                elif dep[0] == "exists":
                    if Project.exists(self, dep[1]) != dep[2]:
                        return False
                elif dep[0] == "links":
                    if self.links_fingerprint() != dep[1]:
                        return False
                else:
                    return False
            return True
        finally:
            self.deps = saved


class _Unchanged:
    """The cache entry is still right. One object, also after the trip back from a pool worker:
    a plain ``object()`` came back as a new object, so the parent stored it as the file's cache
    entry and the next warm scan crashed on every file."""

    def __reduce__(self) -> str:
        return "_UNCHANGED"  # pickled by name: unpickles to this module's one instance

    def __repr__(self) -> str:
        return "_UNCHANGED"


_UNCHANGED = _Unchanged()


class _Scanner:
    """scan_file plus the cache protocol; one per process."""

    def __init__(self, rules: list[Rule] | Callable[[], list[Rule]], context: RuleContext, *, caching: bool = True) -> None:
        # a callable is called on the first file that needs scanning: a scan that the result
        # cache answers entirely imports no rule module
        self._rules = rules
        self.context = context
        self.caching = caching  # False (--no-cache): no cache entry is made (it pickles the results)

    @property
    def rules(self) -> list[Rule]:
        if callable(self._rules):
            self._rules = self._rules()
        return self._rules

    def scan(self, path: Path | str, kind: FileKind, cached: CacheEntry | None) -> Outcome:
        """(findings, diagnostics, source, cache entry | None | _UNCHANGED); never raises for one
        file's sake: a crash becomes an INTERNAL diagnostic (and nothing is cached for the file)."""
        try:
            return self._scan_cached(path, kind, cached)
        except Exception as exc:  # noqa: BLE001 - containment is the point
            rel = _rel(self.context.root, path)
            return [], [internal_diagnostic(rel, 1, exc, "the scan")], None, None

    def _scan_cached(self, path: Path | str, kind: FileKind, cached: CacheEntry | None) -> Outcome:
        """A cache entry is reused while the file's text has its digest. The file is not even
        read when its stat key (size, mtime, ctime, inode: ``cache.unchanged``) is the one
        recorded when it was read, unless its result has findings (their fixes need the text,
        which is then checked against the digest too)."""
        candidate = Candidate(path, kind)
        project = self.context.project
        if cached is None or not isinstance(project, _TrackingProject):
            return self._scan(candidate)
        from migrate_tui.pipeline.cache import loads_result, unchanged, with_stat_key

        source: SourceFile | Diagnostic | None
        source = None  # (assigned apart from the declaration so that mypy narrows it to None)
        read_ns = time.time_ns()
        if unchanged(path, cached):
            result = loads_result(cached)
            if result is not None and result[0]:
                source = read_source(self.context.root, path, max_bytes=self.context.config.max_file_size)
                if not isinstance(source, SourceFile) or source.digest != cached[0]:
                    return self._scan(candidate, source, read_ns)
            if result is not None and project.still_holds(cached[2]):
                return result[0], result[1], source, _UNCHANGED
            return self._scan(candidate, source, read_ns)
        source = read_source(self.context.root, path, max_bytes=self.context.config.max_file_size)
        if isinstance(source, SourceFile) and source.digest == cached[0] and project.still_holds(cached[2]):
            result = loads_result(cached)
            if result is not None:
                # same text, new stat (touched, checked out again): remember the new key
                return result[0], result[1], source, with_stat_key(cached, source, read_ns)
        return self._scan(candidate, source, read_ns)

    def _scan(self, candidate: Candidate, source: SourceFile | Diagnostic | None = None, read_ns: int | None = None) -> Outcome:
        if candidate.kind not in _SCOPES_FOR_KIND:
            return [], [], None, None  # a build file: read for links only (and no rule is loaded)
        project = self.context.project
        tracker = project if self.caching and isinstance(project, _TrackingProject) else None
        if tracker is not None:
            tracker.deps = []
        started_ns = read_ns if read_ns is not None else time.time_ns()  # before the file was read
        try:
            findings, diagnostics, source = scan_file(candidate, self.rules, self.context, source=source)
        finally:
            deps = tuple(tracker.deps) if tracker is not None and tracker.deps is not None else None
            if tracker is not None:
                tracker.deps = None
        entry = None
        crashed = any(d.kind is DiagnosticKind.INTERNAL for d in diagnostics)
        if isinstance(source, SourceFile) and deps is not None and not crashed:
            from migrate_tui.pipeline.cache import make_entry

            entry = make_entry(source.digest, findings, diagnostics, deps, source, started_ns)
        return findings, diagnostics, source, entry


# -- the process pool ---------------------------------------------------------------------

_WORKER: _Scanner | None = None


_WORKER_FAILED: tuple[Path, str] | None = None  # (root, why) when the worker could not start
# (root, link index) that the parent built before forking the workers (``_Feeder``)
_PRELOADED_LINKS: tuple[Path, LinkIndex] | None = None


def _worker_init(root: Path, config: Config, mode: str, rules: bytes, caching: bool = True) -> None:
    """``rules`` travel pickled (each ``check`` by reference), so a worker runs exactly the
    parent's rules, including any registered at run time. They are unpickled here, not by
    multiprocessing, because a worker that fails to start is restarted by the pool forever: a
    failure is kept and reported for each file instead."""
    global _WORKER, _WORKER_FAILED
    import pickle
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C and stops the pool
    try:
        engine = Engine(root, config, mode=mode, jobs=1)
        if _PRELOADED_LINKS is not None and _PRELOADED_LINKS[0] == engine.root:
            engine.project.adopt_links(_PRELOADED_LINKS[1])
        _WORKER = _Scanner(list(pickle.loads(rules)), engine.context, caching=caching)
    except Exception as exc:  # noqa: BLE001
        _WORKER_FAILED = (root, exception_summary(exc))


def _worker_batch(batch: list[Pending]) -> list[Outcome]:
    out: list[Outcome] = []
    for path, kind, cached in batch:
        if _WORKER is None:
            root, why = _WORKER_FAILED or (Path("/"), "not started")
            out.append(([], [internal_diagnostic(_rel(root, Path(path)), 1, why, "starting the scan worker")], None, None))
            continue
        findings, diagnostics, source, entry = _WORKER.scan(path, kind, cached)  # (a str, as in one process)
        # only sources that carry findings travel back (the writer needs their text)
        out.append((findings, diagnostics, source if findings else None, entry))
    return out


def _mp_context() -> BaseContext:
    import multiprocessing
    import threading

    # fork is cheap but unsafe once other threads run (the TUI scans from a worker thread)
    if threading.current_thread() is threading.main_thread() and threading.active_count() == 1:
        try:
            return multiprocessing.get_context("fork")
        except ValueError:  # pragma: no cover - platforms without fork
            pass
    # Then a fork server: one fresh single-threaded process imports the engine, the rules and
    # what a scan imports on first use (pipeline/preload.py) once, and forks each worker from there. Spawned workers imported them each, on every scan:
    # a 10,000-file scan from the TUI took 4.1 s with spawn, 1.8 s with the fork server.
    try:
        context = multiprocessing.get_context("forkserver")
    except ValueError:  # pragma: no cover - platforms without a fork server
        return multiprocessing.get_context("spawn")
    context.set_forkserver_preload([__name__, "migrate_tui.pipeline.preload"])
    return context


@functools.cache
def _pool_class() -> type[multiprocessing.pool.Pool]:
    """``multiprocessing.pool.Pool`` whose worker-maintenance thread sleeps while results come in.

    CPython's Pool (3.8+) wakes that thread whenever its result pipe is readable, to notice
    workers that exit after ``maxtasksperchild`` tasks; until the result thread has read the
    result, the pipe stays readable and the maintenance thread loops, checking every worker:
    on a 10,000-file scan it used ~50 ms of CPU and the GIL while the workers worked. The scan's
    workers never exit on their own (no ``maxtasksperchild``): a worker that dies still wakes the
    thread (its process sentinel is always waited on), and so does the pool's own notifier."""
    import multiprocessing.pool

    if not hasattr(multiprocessing.pool.Pool, "_get_sentinels"):
        return multiprocessing.pool.Pool

    class QuietPool(multiprocessing.pool.Pool):
        def _get_sentinels(self) -> list[Any]:
            return [self._change_notifier._reader]  # type: ignore[attr-defined]

    return QuietPool


class _Feeder:
    """A process pool fed batches of candidates while discovery still walks the tree.

    ``add`` queues candidates (in discovery order), ``finish`` flushes the last batch,
    ``outcomes()`` yields one outcome per candidate in that order, and ``stop`` ends the pool
    (terminating it when the results were not all read)."""

    _END = None

    def __init__(
        self, engine: Engine, store: ScanCache | None, workers: int, *, preload_links: bool = False, walked: Walked | None = None
    ) -> None:
        global _PRELOADED_LINKS
        import pickle
        import queue

        self.root = engine.root
        self.store = store
        self.pending: list[Pending] = []
        self.batches: queue.SimpleQueue[list[Pending] | None] = queue.SimpleQueue()
        self.done = False
        self.stopped = False
        chosen = engine.rules()
        rules = pickle.dumps(chosen)
        context = _mp_context()
        forking = context.get_start_method() == "fork"
        if forking and preload_links and any(isinstance(r, DockerfileRule) for r in chosen):
            try:
                _PRELOADED_LINKS = (engine.root, engine.project.links(walked))
            except Exception:  # noqa: BLE001 - a worker builds it again and reports the problem there
                _PRELOADED_LINKS = None
        if forking:
            # what the parent has built so far (modules, rules) stays shared with the workers:
            # their cyclic GC does not walk it, so its pages are not copied into every worker
            gc.freeze()
        try:
            self.pool = _pool_class()(
                workers, _worker_init, (self.root, engine.config, engine.mode, rules, store is not None), context=context
            )
        finally:
            _PRELOADED_LINKS = None  # (the workers have their copy)
            if forking:
                gc.unfreeze()  # (the workers are forked by now; this process collects as before)
        self.results = self.pool.imap(_worker_batch, iter(self.batches.get, self._END))

    def add(self, candidates: Iterable[Candidate]) -> None:
        store, root = self.store, self.root
        for c in candidates:
            self.pending.append((c.path_str, c.kind, store.entry_for(_rel_of(root, c)) if store else None))
            if len(self.pending) >= _BATCH:
                self.batches.put(self.pending)
                self.pending = []

    def finish(self) -> None:
        if self.pending:
            self.batches.put(self.pending)
            self.pending = []
        self.batches.put(self._END)

    def outcomes(self) -> Iterator[Outcome]:
        for outcomes in self.results:
            yield from outcomes
        self.done = True

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.batches.put(self._END)  # the pool's task thread must not wait for more batches
        if self.done:
            self.pool.close()
        else:
            self.pool.terminate()
        self.pool.join()


def _mostly_unchanged(store: ScanCache, root: Path, candidates: list[Candidate]) -> bool:
    """Do nine in ten of ``candidates`` still have the stat key of their cache entry?"""
    from migrate_tui.pipeline.cache import unchanged

    hits = 0
    for c in candidates:
        entry = store.entry_for(_rel_of(root, c))
        hits += entry is not None and unchanged(c.path_str, entry)
    return hits * 10 >= len(candidates) * 9


def _rel_of(root: Path, candidate: Candidate) -> str:
    return candidate.rel if candidate.rel is not None else _rel(root, candidate.path)


def _rel(root: Path, path: Path | str) -> str:
    # Path strings are normalised, so a path below the root is the root, '/' and the answer
    # that ``relative_to`` gives (which costs more than the rest of a file's bookkeeping).
    fast = _rel_below(str(root), str(path))
    if fast is not None:
        return fast
    path = Path(path)
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def scan_file(
    candidate: Candidate, rules: list[Rule], context: RuleContext, *, source: SourceFile | Diagnostic | None = None
) -> tuple[list[Finding], list[Diagnostic], SourceFile | None]:
    scoped, needles = _scoped(rules, candidate.kind)
    if not scoped:
        return [], [], None
    if source is None:
        source = read_source(context.root, candidate.path_str, max_bytes=context.config.max_file_size)
    if isinstance(source, Diagnostic):
        return [], [source], None
    if needles and not any(n in source.text for n in needles):
        return [], [], source
    context.project.remember(source)
    crashes: dict[str, Diagnostic] = {}
    if candidate.kind is FileKind.YAML:
        findings, diagnostics = _scan_yaml(source, scoped, context, crashes)
    else:
        findings, diagnostics = _scan_dockerfile(source, scoped, context, crashes)
    diagnostics = diagnostics + list(crashes.values())
    suppressions = parse_suppressions(source.text)
    kept = [f for f in findings if not suppressions.silences(f.rule, f.location.line, f.doc_span)]
    if suppressions.by_line:
        diagnostics = diagnostics + _unused_suppressions(source.path, suppressions, scoped)
    return kept, diagnostics, source


# (rules, the rules as they were, kind) -> (the rules for that kind, their needles): the same
# answer for every file of a scan
_SCOPED: dict[tuple[int, FileKind], tuple[list[Rule], tuple[Rule, ...], list[Rule], frozenset[str]]] = {}


def _scoped(rules: list[Rule], kind: FileKind) -> tuple[list[Rule], frozenset[str]]:
    """The rules that scan a file of ``kind``, and the needles one of which its text must hold."""
    kept = _SCOPED.get((id(rules), kind))
    if kept is not None and kept[0] is rules and kept[1] == tuple(rules):
        return list(kept[2]), kept[3]
    scoped = [r for r in rules if isinstance(r, _SCOPES_FOR_KIND.get(kind, ()))]
    needles = frozenset(n for r in scoped for n in r.needles)
    if len(_SCOPED) >= 16:
        _SCOPED.clear()
    _SCOPED[(id(rules), kind)] = (rules, tuple(rules), scoped, needles)
    return list(scoped), needles


def _unused_suppressions(path: str, suppressions: Suppressions, scoped: list[Rule]) -> list[Diagnostic]:
    """`# migrate-tui: ignore[...]` comments that silence nothing (like ruff's RUF100)."""
    from migrate_tui.rules import all_rules

    out: list[Diagnostic] = []
    for line, code in suppressions.unused({r.code for r in scoped}, set(all_rules())):
        if code == "*":
            message = "unused suppression: `# migrate-tui: ignore` silences no finding here"
        elif code not in all_rules():
            message = f"unknown rule code '{code}' in a suppression (see `migrate-tui rules`)"
        else:
            message = f"unused suppression: no {code} finding here to ignore"
        out.append(Diagnostic(path, line, DiagnosticKind.UNUSED_SUPPRESSION, message))
    return out


_SCOPES_FOR_KIND: dict[FileKind, tuple[type[PodSpecRule] | type[DockerfileRule], ...]] = {
    FileKind.YAML: (PodSpecRule,),
    FileKind.DOCKERFILE: (DockerfileRule,),
}


def _scan_yaml(
    source: SourceFile, rules: list[Rule], context: RuleContext, crashes: dict[str, Diagnostic]
) -> tuple[list[Finding], list[Diagnostic]]:
    findings: list[Finding] = []
    diagnostics: list[Diagnostic] = []
    podspec_rules = [r for r in rules if isinstance(r, PodSpecRule)]
    template_at = None
    for item in load_documents(source.text):
        if isinstance(item, YamlError):
            template_at = template_at if template_at is not None else template_line(source.text)
            if template_at is not None:
                diagnostics.append(
                    Diagnostic(
                        source.path,
                        template_at,
                        DiagnosticKind.TEMPLATE,
                        "Helm/Jinja template ({{ … }}), not plain YAML; render it first (helm template) to check it",
                    )
                )
                break
            diagnostics.append(Diagnostic(source.path, item.line, DiagnosticKind.PARSE, item.message))
            continue
        if not isinstance(item.data, dict):
            continue
        if not podspec_rules:
            continue
        for ref in find_pod_specs(item.data):
            subject = PodSpecSubject(source, item.chunk, item.data, ref)
            for rule in podspec_rules:
                findings += _run(rule, subject, context, source.path, getattr(ref.spec, "line", 0) or item.chunk.line, crashes)
    return findings, diagnostics


def _scan_dockerfile(
    source: SourceFile, rules: list[Rule], context: RuleContext, crashes: dict[str, Diagnostic]
) -> tuple[list[Finding], list[Diagnostic]]:
    from migrate_tui.parse.dockerfile.parser import parse_dockerfile

    parsed = parse_dockerfile(source.text)
    findings: list[Finding] = []
    for rule in rules:
        findings += _run(rule, (source, parsed), context, source.path, 1, crashes)
    return findings, [Diagnostic(source.path, line, DiagnosticKind.PARSE, message) for line, message in getattr(parsed, "errors", [])]


def _run(
    rule: Rule,
    subject: PodSpecSubject | DockerfileSubject | YamlDocument,
    context: RuleContext,
    path: str,
    line: int,
    crashes: dict[str, Diagnostic],
) -> list[Finding]:
    """One rule over one subject. A crash drops that rule's findings for the subject (they may be
    incomplete) and records one INTERNAL diagnostic per rule and file; other rules and subjects
    still run."""
    try:
        # the subject is the one of the rule's scope (the callers pick rules by ``scope``), a
        # pairing mypy can't follow through the union of rule types
        return list(rule.check(subject, context))  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - containment is the point
        crashes.setdefault(rule.code, internal_diagnostic(path, line, exc, f"rule {rule.code}"))
        return []


def internal_diagnostic(path: str, line: int, exc: BaseException | str, where: str) -> Diagnostic:
    """A crash on one file, as ruff's "panicked while linting": a bug in migrate-tui, not in the file.
    ``exc`` is the exception, or its one-line summary when it was caught elsewhere."""
    if os.environ.get("MIGRATE_TUI_DEBUG") and isinstance(exc, BaseException):
        print(f"migrate-tui: {where} crashed on {path}:", file=sys.stderr)
        traceback.print_exception(exc, file=sys.stderr)
    summary = exc if isinstance(exc, str) else exception_summary(exc)
    return Diagnostic(
        path,
        max(line, 1),
        DiagnosticKind.INTERNAL,
        f"{where} crashed: {summary}; this is a bug in migrate-tui, please report it (MIGRATE_TUI_DEBUG=1 prints the traceback)",
    )
