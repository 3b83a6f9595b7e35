"""Links from a page to a folder of the repository (``[ops/](../tinygrad_nn/ops)``), which work on GitHub, are
kept in the site as their text: a site has no page for a folder. Links to files are download links (MyST's
own rule), and a link to anything that does not exist stays an error."""

from __future__ import annotations

from pathlib import Path

from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.nodes import NodeMatcher


class FolderLinks(SphinxPostTransform):
    default_priority = 5  # before MyST resolves (and warns about) its links

    def run(self, **kwargs):
        from sphinx import addnodes

        repository = Path(self.app.srcdir).resolve().parent
        page = Path(self.env.doc2path(self.env.docname)).parent
        for node in list(self.document.findall(NodeMatcher(addnodes.pending_xref, reftype="myst"))):
            target = node.get("reftarget", "")
            if "://" in target or not target:
                continue
            path = (page / target.split("#")[0]).resolve()
            if path.is_dir() and repository in path.parents:
                node.replace_self(node[0].deepcopy())


def setup(app):
    app.add_post_transform(FolderLinks)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
