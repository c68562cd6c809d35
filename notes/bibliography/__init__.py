"""The bibliography: BibTeX read (``parsing``) and written (``writing``), references formatted
author-year (``formatting``), and a .bib file imported all-or-nothing (``importing``)."""
