"""The engine: what is true of any rule, whatever its domain.

``model`` (values, the read side of a document, the run-wide index, the rule
API), ``loading`` (bytes -> documents), ``engine`` (the per-file loop and the
cross-object phase), ``postpass`` (severity, suppression, M100 for every
finding), ``indexing``, ``suppression``, ``plan`` and ``config`` (selection),
``plugins`` and ``hookspecs``, ``emitted`` (the rules the engine emits itself),
``inputs``, ``globs``, ``report`` and ``baseline``.
"""
