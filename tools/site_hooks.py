"""MkDocs hooks: small adjustments to the build that no plugin option offers."""


def on_page_content(html, page, config, files):
    """Keep the notebooks out of the search index.

    Their cells are the lecture pages' code, already indexed there, and the
    index is loaded on every page: the notebooks alone would add about 200 KB
    to every first load. Material's search plugin honours `search: exclude`.
    """
    if page.file.src_uri.endswith(".ipynb"):
        page.meta["search"] = {"exclude": True}
    return html
