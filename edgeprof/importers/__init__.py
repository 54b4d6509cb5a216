"""Importers that turn other tools' published measurements into edgeprof tables."""

from edgeprof.importers.edgereasoning import import_edgereasoning

IMPORTERS = {"edgereasoning": import_edgereasoning}

__all__ = ["IMPORTERS", "import_edgereasoning"]
