"""Mission reports: :func:`write_report` (one self-contained HTML page per results directory) and
:func:`write_compare` (several missions side by side). See :mod:`neurosim.report.html`."""


def write_report(results_dir, out=None):
    """Build ``report.html`` in ``results_dir`` (or at ``out``) from the saved results; return its
    path. Deterministic: the same results give the same bytes."""
    # local: the report modules import matplotlib, which `neurosim` commands that write no
    # report should not pay for at start-up
    from neurosim.report.html import write_report as _write
    return _write(results_dir, out)


def write_compare(dirs, out=None):
    """Write ``compare.html`` and ``compare.json`` into ``out``; return (html path, rows)."""
    from neurosim.report.compare import write_compare as _write  # local: start-up time (above)
    return _write(dirs, out)
