/// The Python that applies `WSGIPythonPath` / `python-path=`, in one place for both its users:
/// the module runs it in every interpreter, `swsgi doctor` in the Python it asks as a group's
/// user, so that what doctor predicts is the module's own setup. The code that includes it
/// defines `_note_site_dir(path)` first.
public let sitePathSource = #"""
def add_site_dirs(dirs):
    """WSGIPythonPath / python-path=: site.addsitedir each, new entries moved to the front."""
    import site
    before = set(sys.path)
    for d in dirs:
        _note_site_dir(d)
        site.addsitedir(d)
    added = [p for p in sys.path if p not in before]
    sys.path[:] = added + [p for p in sys.path if p in before]
"""#
