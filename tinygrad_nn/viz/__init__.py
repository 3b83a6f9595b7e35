"""Pictures: the graph of any Value (DOT text with no dependency; SVG or PNG with Graphviz), matplotlib figures
(optional extra `plot`), a network drawn as the book draws one, and the live page of the book's networks.

- `graph`: `to_dot`, `draw_dot`, and what a notebook shows for a Value;
- `figures`: the cost curve, weight maps, filters and feature maps, each written atomically (`figure_set`);
- `network`: `draw_network(module)`, units as circles, connections coloured and sized by their weights;
- `network_page`: `network.html`, the page where a reader clicks pixels and watches the network answer.

>>> from tinygrad_nn import Value
>>> x = Value(2.0, name="x")
>>> print(to_dot(x * x + 1).splitlines()[0])
digraph tinygrad_nn {
"""

from .figures import (
    PLOT_HINT,
    figure_set,
    have_matplotlib,
    plot_cost_curve,
    plot_feature_maps,
    plot_filters,
    plot_step_vs_sigmoid,
    plot_weight_maps,
    pyplot,
    save_figure,
    save_file,
    save_text,
)
from .graph import GRAPHVIZ_HINT, draw_dot, have_graphviz, to_dot
from .network import draw_network
from .network_page import TrainingSnapshots, cnn_page, mlp_page, write_network_page

__all__ = [
    "GRAPHVIZ_HINT",
    "PLOT_HINT",
    "TrainingSnapshots",
    "cnn_page",
    "draw_dot",
    "draw_network",
    "figure_set",
    "have_graphviz",
    "have_matplotlib",
    "mlp_page",
    "plot_cost_curve",
    "plot_feature_maps",
    "plot_filters",
    "plot_step_vs_sigmoid",
    "plot_weight_maps",
    "pyplot",
    "save_figure",
    "save_file",
    "save_text",
    "to_dot",
    "write_network_page",
]
