"""Quick capture: turning a web page, a DOI or an arXiv id into a prefilled summary draft."""
