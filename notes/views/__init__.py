"""Views, one module per part of the site: reading, preview, and what later work adds."""
