import numpy as np
import pytest

from tinygrad_nn import Value
from tinygrad_nn.nn import MLP, Identity, Layer, Module, Neuron, ReLU, Sequential, Sigmoid, Step, Tanh


def test_book_network_shapes_and_names():
    net = MLP(12, [3, 2], seed=0)
    shapes = {name: p.shape for name, p in net.named_parameters()}
    assert shapes == {"0.weight": (3, 12), "0.bias": (3,),
                      "2.weight": (2, 3), "2.bias": (2,)}
    assert sum(p.size for p in net.parameters()) == 47


def test_layer_weight_rows_are_units():
    layer = Layer(3, 2, activation=None, seed=0)
    layer.weight.data[:] = [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    layer.bias.data[:] = [0.5, -1.0]
    out = layer(np.array([3.0, 4.0, 5.0]))
    np.testing.assert_array_equal(out.data, [3.5, 7.0])  # unit j: w_j . x + b_j


def test_one_sample_and_batch_agree():
    net = MLP(4, [5, 3], seed=1)
    x = np.random.default_rng(0).normal(size=(6, 4))
    batch = net(x).data
    for i in range(6):
        np.testing.assert_allclose(net(x[i]).data, batch[i], rtol=0, atol=1e-15)


def test_array_input_is_constant_value_input_gets_gradient():
    net = MLP(3, [2], seed=0)
    x = Value(np.ones((4, 3)))
    net(x).sum().backward()
    assert np.any(x.grad != 0)
    out = net(np.ones((4, 3)))
    assert out.requires_grad  # through the parameters


def test_wrong_input_shape_is_explained():
    with pytest.raises(ValueError, match=r"Layer: expected one sample of shape \(12,\).*got shape \(64, 11\)"):
        MLP(12, [3, 2])(np.zeros((64, 11)))


def test_seed_gives_bit_identical_weights_and_generator_works():
    a, b = MLP(12, [3, 2], seed=7), MLP(12, [3, 2], seed=7)
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb and np.array_equal(pa.data, pb.data)
    c = MLP(12, [3, 2], seed=np.random.default_rng(7))
    assert all(np.array_equal(p.data, q.data) for p, q in zip(a.parameters(), c.parameters()))
    d = MLP(12, [3, 2], seed=8)
    assert not np.array_equal(a.parameters()[0].data, d.parameters()[0].data)


def test_float32_modules():
    net = MLP(4, [8, 2], dtype=np.float32, seed=0)
    assert all(p.dtype == np.float32 for p in net.parameters())
    out = net(np.ones((3, 4)))
    assert out.dtype == np.float32
    out.sum().backward()
    assert all(p.grad.dtype == np.float32 for p in net.parameters())
    with pytest.raises(TypeError, match="float type"):
        MLP(2, [1], dtype=np.int32)


def test_output_activation_none_gives_logits():
    net = MLP(2, [4, 3], activation="relu", output_activation=None, seed=0)
    assert net.layers[-1].activation is None
    out = net(np.array([[100.0, -100.0]])).data
    assert np.any((out < 0) | (out > 1))  # not squashed


def test_activation_by_name_callable_and_unknown():
    x = np.array([[-1.0, 0.0, 2.0]])
    for name, expect in [("sigmoid", 1 / (1 + np.exp(-x))), ("relu", np.maximum(x, 0)), ("tanh", np.tanh(x)),
                         ("step", (x >= 0) * 1.0), ("identity", x), (None, x)]:
        layer = Layer(3, 3, activation=name, seed=0)
        layer.weight.data[:] = np.eye(3)
        layer.bias.data[:] = 0
        np.testing.assert_allclose(layer(x).data, expect, rtol=1e-15)
    layer = Layer(3, 3, activation=lambda z: z * 2, seed=0)
    layer.weight.data[:] = np.eye(3)
    layer.bias.data[:] = 0
    np.testing.assert_array_equal(layer(x).data, 2 * x)
    with pytest.raises(ValueError, match="unknown activation 'softsign'"):
        Layer(3, 3, activation="softsign")


def test_neuron_threshold_is_minus_bias_and_step_fires():
    n = Neuron(2, activation="step", seed=0)
    n.weight.data[:] = [1.0, 1.0]
    n.threshold = 1.5
    assert n.bias.data == -1.5 and n.threshold == 1.5
    fired = [n(np.array(x, float)).item() for x in ([0, 0], [0, 1], [1, 0], [1, 1])]
    assert fired == [0.0, 0.0, 0.0, 1.0]
    n2 = Neuron(3, seed=0)
    x = np.array([0.5, -1.0, 2.0])
    expect = 1 / (1 + np.exp(-(n2.weight.data @ x - n2.threshold)))
    assert n2(x).item() == pytest.approx(expect, rel=1e-15)


def test_neuron_batch_and_scalar_bias_gradient():
    n = Neuron(3, seed=0)
    out = n(np.ones((5, 3)))
    assert out.shape == (5,)
    out.sum().backward()
    assert isinstance(n.bias.grad, float) and n.bias.grad != 0.0


def test_state_dict_round_trip_and_refusals():
    a, b = MLP(12, [3, 2], seed=1), MLP(12, [3, 2], seed=2)
    state = a.state_dict()
    assert set(state) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    state["0.weight"][0, 0] = 123.0  # a copy: editing it leaves the model alone
    assert a.layers[0].weight.data[0, 0] != 123.0
    b.load_state_dict(a.state_dict())
    x = np.random.default_rng(0).random((5, 12))
    np.testing.assert_array_equal(a(x).data, b(x).data)

    bad = a.state_dict()
    del bad["2.bias"]
    bad["extra"] = np.zeros(1)
    with pytest.raises(ValueError, match=r"missing \['2.bias'\]; unexpected \['extra'\]"):
        b.load_state_dict(bad)
    before = b.state_dict()
    wrong = a.state_dict()
    wrong["2.weight"] = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"2.weight has shape \(2, 3\) here but \(3, 2\)"):
        b.load_state_dict(wrong)
    after = b.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)  # nothing half-loaded
    partial = {"0.bias": np.ones(3)}
    b.load_state_dict(partial, strict=False)
    np.testing.assert_array_equal(b.layers[0].bias.data, np.ones(3))


def test_neuron_state_dict_scalar_bias():
    n = Neuron(3, seed=0)
    state = n.state_dict()
    assert state["bias"].shape == ()
    m = Neuron(3, seed=1)
    m.load_state_dict(state)
    assert isinstance(m.bias.data, float) and m.bias.data == n.bias.data


def test_custom_module_finds_attributes_lists_and_shared_parameters():
    class Net(Module):
        def __init__(self):
            self.first = Layer(2, 3, seed=0)
            self.blocks = [Layer(3, 3, seed=1), Layer(3, 1, seed=2)]
            self.scale = Value(1.0)
            self.frozen = Value(np.ones(2), requires_grad=False)
            self.tied = self.first  # the same module twice: its parameters are listed once

        def forward(self, x):
            x = self.first(x)
            for b in self.blocks:
                x = b(x)
            return x * self.scale

    names = [n for n, _ in Net().named_parameters()]
    assert names == ["first.weight", "first.bias", "blocks.0.weight", "blocks.0.bias",
                     "blocks.1.weight", "blocks.1.bias", "scale"]


def test_zero_grad_resets():
    net = MLP(3, [2], seed=0)
    net(np.ones(3)).sum().backward()
    assert any(np.any(p.grad != 0) for p in net.parameters())
    net.zero_grad()
    assert all(np.all(p.grad == 0) for p in net.parameters())


def test_sequential_and_activation_modules():
    net = Sequential(Layer(2, 4, activation=None, seed=0), ReLU(), Layer(4, 4, activation=None, seed=1), Tanh(),
                     Layer(4, 1, activation=None, seed=2), Sigmoid(), Identity())
    x = np.array([[0.3, -0.2]])
    h = np.maximum(x @ net.layers[0].weight.data.T + net.layers[0].bias.data, 0)
    h = np.tanh(h @ net.layers[2].weight.data.T + net.layers[2].bias.data)
    o = 1 / (1 + np.exp(-(h @ net.layers[4].weight.data.T + net.layers[4].bias.data)))
    np.testing.assert_allclose(net(x).data, o, rtol=1e-14)
    assert Step()(Value(np.array([-0.1, 0.0]))).data.tolist() == [0.0, 1.0]
    assert len(net.parameters()) == 6


# -- issue 8: lists of Values, __call__, clear errors, loading, copying -----------------------------------


@pytest.mark.parametrize("make", [lambda: Neuron(3, seed=0), lambda: Layer(3, 2, seed=0),
                                  lambda: MLP(3, [4, 2], seed=0)])
def test_list_of_values_keeps_its_gradients(make):
    model = make()
    xs = [Value(0.5), Value(-1.0), Value(2.0)]  # micrograd's habit: a sample as a list of scalar Values
    model(xs).sum().backward()
    as_array = Value(np.array([0.5, -1.0, 2.0]))
    model.zero_grad()
    model(as_array).sum().backward()
    assert [x.grad for x in xs] == pytest.approx(as_array.grad.tolist(), rel=1e-15)
    assert any(x.grad != 0.0 for x in xs)


def test_batch_as_nested_lists_of_values_and_numbers():
    net = MLP(2, [3, 1], seed=0)
    a, b = Value(1.0), Value(-2.0)
    out = net([[a, 0.5], [0.25, b]])
    assert out.shape == (2, 1)
    np.testing.assert_allclose(out.data, net(np.array([[1.0, 0.5], [0.25, -2.0]])).data, rtol=1e-15)
    out.sum().backward()
    assert a.grad != 0.0 and b.grad != 0.0
    with pytest.raises(ValueError, match="a list of Values must be rectangular"):
        net([[a, 0.5], [b]])


def test_module_call_passes_every_argument_to_forward():
    class Scale(Module):
        def forward(self, x, factor=1.0, *, shift=0.0):
            return x * factor + shift

    assert Scale()(Value(2.0), 3.0, shift=1.0).item() == 7.0
    assert Scale()(Value(2.0), factor=0.5).item() == 1.0


@pytest.mark.parametrize("build, kind, message", [
    (lambda: MLP(2, 16), TypeError, r"nouts must be a list of layer sizes, got int 16; e.g. MLP\(2, \[16\]\)"),
    (lambda: MLP(-1, [2]), ValueError, r"MLP: nin must be at least 1, got -1"),
    (lambda: MLP(2, [3, 0]), ValueError, r"MLP: nouts\[1\] must be at least 1, got 0"),
    (lambda: MLP(2, []), ValueError, r"nouts must list at least one layer size"),
    (lambda: MLP(2.0, [2]), TypeError, r"MLP: nin must be a whole number of units, got float 2.0"),
    (lambda: Layer(0, 3), ValueError, r"Layer: nin must be at least 1, got 0"),
    (lambda: Layer(3, 0), ValueError, r"Layer: nout must be at least 1, got 0"),
    (lambda: Layer(3, True), TypeError, r"Layer: nout must be a whole number"),
    (lambda: Neuron(0), ValueError, r"Neuron: nin must be at least 1, got 0"),
])
def test_bad_sizes_are_explained(build, kind, message):
    with pytest.raises(kind, match=message):
        build()


def test_numpy_integer_sizes_are_fine():
    net = MLP(np.int64(3), [np.int32(2)], seed=0)
    assert net(np.ones(3)).shape == (2,)


def test_load_state_dict_never_half_loads_on_overflow_under_errstate():
    net = MLP(2, [3, 1], seed=0, dtype=np.float32)
    before = net.state_dict()
    state = {k: v.astype(np.float64) for k, v in before.items()}
    for k in state:
        state[k][...] = 7.0  # would be loaded first if loading went name by name
    state[list(state)[-1]][...] = 1e300  # the last bias: too large for float32
    with np.errstate(all="raise"), pytest.raises(ValueError, match=r"bias"):
        net.load_state_dict(state)
    after = net.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)


class _Heads(Module):  # module level, so that pickle finds the class
    def __init__(self):
        from tinygrad_nn.nn import ModuleDict, ModuleList

        self.trunk = ModuleList([Layer(3, 4, seed=0), Layer(4, 4, activation="relu", seed=1)])
        self.heads = ModuleDict({"a": Layer(4, 2, seed=2), "b": Layer(4, 2, activation=None, seed=3)})

    def forward(self, x):
        for m in self.trunk:
            x = m(x)
        return self.heads["a"](x) + self.heads["b"](x)


def _copies(net):
    import copy
    import pickle

    return [copy.deepcopy(net), pickle.loads(pickle.dumps(net))]


@pytest.mark.parametrize("make", [
    lambda: MLP(3, [4, 2], seed=0),
    lambda: Sequential(Layer(3, 4, activation=None, seed=0), ReLU(), Layer(4, 2, activation="tanh", seed=1), Sigmoid()),
    lambda: _Heads(),
])
def test_deepcopy_and_pickle_give_identical_independent_models(make):
    net = make()
    x = np.random.default_rng(0).normal(size=(5, 3))
    expected = net(x).data
    for twin in _copies(net):
        np.testing.assert_array_equal(twin(x).data, expected)
        assert [n for n, _ in twin.named_parameters()] == [n for n, _ in net.named_parameters()]
        for p, q in zip(net.parameters(), twin.parameters()):
            assert p is not q and not np.shares_memory(p.data, q.data)
        twin.parameters()[0].data[...] += 1.0  # training the copy leaves the original alone
        np.testing.assert_array_equal(net(x).data, expected)
        twin(x).sum().backward()
        assert all(p.grad is None or not np.any(p.grad) for p in net.parameters())


# -- issue 9: containers, module walks, train/eval ------------------------------------------------------

from tinygrad_nn.nn import ModuleDict, ModuleList  # noqa: E402


def test_module_list_names_by_index_and_behaves_like_a_list():
    blocks = ModuleList([Layer(2, 3, seed=0), Layer(3, 1, seed=1)])
    assert [n for n, _ in blocks.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert len(blocks) == 2 and isinstance(blocks[0], Layer) and list(blocks) == [blocks[0], blocks[1]]
    blocks.append(Layer(1, 1, seed=2))
    blocks.insert(0, Layer(2, 2, seed=3))
    assert [m.nin for m in blocks] == [2, 2, 3, 1]
    assert isinstance(blocks[1:], ModuleList) and len(blocks[1:]) == 3
    del blocks[0]
    blocks[2] = Layer(1, 4, seed=4)
    assert [m.nout for m in blocks] == [3, 1, 4]
    with pytest.raises(TypeError, match="ModuleList: items must be Modules, got function"):
        blocks.append(lambda x: x)
    with pytest.raises(NotImplementedError, match="ModuleList has no forward"):
        blocks(np.ones(2))


def test_module_list_inside_a_module_is_named_and_trained():
    class Net(Module):
        def __init__(self):
            self.blocks = ModuleList([Layer(2, 4, seed=0), Layer(4, 1, seed=1)])

        def forward(self, x):
            for b in self.blocks:
                x = b(x)
            return x

    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
                                                       "blocks.1.bias"]
    net(np.ones((3, 2))).sum().backward()
    assert all(np.any(p.grad != 0) for p in net.parameters())


def test_module_dict_names_by_key():
    heads = ModuleDict({"left": Layer(2, 1, seed=0)})
    heads["right"] = Layer(2, 3, seed=1)
    assert [n for n, _ in heads.named_parameters()] == ["left.weight", "left.bias", "right.weight", "right.bias"]
    assert list(heads) == ["left", "right"] and "left" in heads and len(heads) == 2
    assert list(heads.keys()) == ["left", "right"] and heads["right"].nout == 3
    assert [k for k, _ in heads.items()] == ["left", "right"] and len(list(heads.values())) == 2
    heads.pop("left")
    assert list(heads) == ["right"]
    for bad in ("a.b", "", 3):
        with pytest.raises(KeyError, match="keys must be non-empty strings without '.'"):
            heads[bad] = Layer(1, 1)
    with pytest.raises(TypeError, match="values must be Modules"):
        heads["x"] = Value(1.0)


def test_parameters_in_dicts_and_nested_lists():
    class Net(Module):
        def __init__(self):
            self.table = {"a": Value(1.0), "b": [Value(np.ones(2)), {"c": Layer(1, 1, seed=0)}]}
            self.grid = [[Value(2.0), Value(3.0)], [Layer(1, 1, seed=1)]]
            self.ignored = {"frozen": Value(1.0, requires_grad=False), "number": 3.0, "array": np.ones(2)}

    names = [n for n, _ in Net().named_parameters()]
    assert names == ["table.a", "table.b.0", "table.b.1.c.weight", "table.b.1.c.bias",
                     "grid.0.0", "grid.0.1", "grid.1.0.weight", "grid.1.0.bias"]


def test_modules_children_and_named_modules():
    shared = Layer(3, 3, seed=2)

    class Net(Module):
        def __init__(self):
            self.first = Layer(2, 3, seed=0)
            self.blocks = ModuleList([shared, Tanh()])
            self.heads = {"out": Layer(3, 1, seed=1)}
            self.again = shared  # the same module twice: listed once, under its first name

    net = Net()
    assert [n for n, _ in net.named_children()] == ["first", "blocks", "heads.out", "again"]
    assert list(net.children()) == [net.first, net.blocks, net.heads["out"], shared]
    assert [n for n, _ in net.named_modules()] == ["", "first", "blocks", "blocks.0", "blocks.1", "heads.out"]
    assert list(net.modules())[0] is net and len(list(net.modules())) == 6
    assert [n for n, _ in net.named_modules(prefix="net")][:2] == ["net", "net.first"]
    # PyTorch's rule for named_parameters too: the shared module's parameters come under their first name.
    assert [n for n, _ in net.named_parameters()][2:4] == ["blocks.0.weight", "blocks.0.bias"]


def test_a_module_that_refers_to_its_parent_is_walked_once():
    outer = Sequential(Layer(2, 2, seed=0))
    inner = outer.layers[0]
    inner.parent = outer  # a cycle: no infinite walk
    assert len(outer.parameters()) == 2 and len(list(outer.modules())) == 2


def test_train_and_eval_set_the_flag_everywhere():
    net = Sequential(Layer(2, 3, seed=0), ReLU(), Sequential(Layer(3, 1, seed=1)))
    assert net.training and all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules()) and len(list(net.modules())) == 5
    net.train()
    assert all(m.training for m in net.modules())
    net.train(False)
    assert not net.layers[0].training
    with pytest.raises(TypeError, match="mode must be True or False"):
        net.train("no")
    assert [n for n, _ in net.named_parameters()][-1].endswith("bias")  # the flag is no parameter
    np.testing.assert_array_equal(net(np.ones(2)).data, net.train()(np.ones(2)).data)


# -- issue 10: Sequential's names are PyTorch's --------------------------------------------------------------


def test_sequential_names_are_positions_as_in_pytorch():
    net = Sequential(Layer(4, 8, activation=None, seed=0), ReLU(), Layer(8, 8, activation=None, seed=1), Tanh(),
                     Layer(8, 1, activation=None, seed=2))
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert [n for n, _ in net.named_modules()] == ["", "0", "1", "2", "3", "4"]
    assert net[2] is net.layers[2] and len(net) == 5 and list(net)[4] is net.layers[4]
    head = net[:2]
    assert isinstance(head, Sequential) and list(head.state_dict()) == ["0.weight", "0.bias"]
    inner = Sequential(Sequential(Layer(2, 2, seed=0), Sigmoid()), Layer(2, 1, seed=1))
    assert list(inner.state_dict()) == ["0.0.weight", "0.0.bias", "1.weight", "1.bias"]
    assert net.append(Sigmoid()) is net and len(net) == 6


def test_sequential_state_dict_loads_into_torch_and_back():
    torch = pytest.importorskip("torch")
    net = Sequential(Layer(3, 5, activation=None, seed=0), ReLU(), Layer(5, 2, activation=None, seed=1), Sigmoid())
    ref = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2), torch.nn.Sigmoid())
    ref = ref.double()
    assert list(ref.state_dict()) == list(net.state_dict())
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in net.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_allclose(ref(torch.from_numpy(x)).detach().numpy(), net(x).data, rtol=0, atol=1e-12)


# -- issue 11: load_state_dict refuses, listing everything; MLP's names are torch.nn.Sequential's -----------


def test_load_state_dict_lists_every_problem_and_changes_nothing():
    net = MLP(12, [3, 2], seed=0, dtype=np.float32)
    before = net.state_dict()
    state = {k: v.copy() for k, v in before.items()}
    del state["2.bias"]
    state["3.weight"] = np.zeros((2, 3), np.float32)
    state["0.weight"] = np.zeros((3, 11), np.float32)
    state["0.bias"] = np.zeros(3)  # float64 into a float32 parameter
    state["2.weight"] = np.full((2, 3), 5.0, np.float32)  # fine on its own, but not loaded alone
    with pytest.raises(ValueError) as e:
        net.load_state_dict(state)
    message = str(e.value)
    for part in ["missing ['2.bias']", "unexpected ['3.weight']",
                 "0.weight has shape (3, 12) here but (3, 11) in the state",
                 "0.bias is float32 here but float64 in the state (convert it with .astype(np.float32))",
                 "strict=False loads only the names that match"]:
        assert part in message, part
    assert all(np.array_equal(before[k], v) for k, v in net.state_dict().items())


def test_load_state_dict_strict_false_allows_only_names():
    net = MLP(2, [3, 1], seed=0)
    result = net.load_state_dict({"0.bias": np.ones(3), "head.weight": np.ones(1)}, strict=False)
    assert result.missing_keys == ["0.weight", "2.weight", "2.bias"] and result.unexpected_keys == ["head.weight"]
    np.testing.assert_array_equal(net.layers[0].bias.data, np.ones(3))
    with pytest.raises(ValueError, match=r"0.bias has shape \(3,\) here but \(4,\)"):
        net.load_state_dict({"0.bias": np.ones(4)}, strict=False)
    with pytest.raises(ValueError, match="0.bias is float64 here but int64 in the state"):
        net.load_state_dict({"0.bias": np.ones(3, dtype=np.int64)}, strict=False)


def test_load_state_dict_other_inputs():
    net = MLP(2, [1], seed=0)
    net.load_state_dict({"0.weight": [[1.0, 2.0]], "0.bias": Value(np.array([0.5]))})  # no dtype: converted
    np.testing.assert_array_equal(net.layers[0].weight.data, [[1.0, 2.0]])
    assert net.layers[0].bias.data[0] == 0.5
    with pytest.raises(TypeError, match="expected a dict of name -> array"):
        net.load_state_dict(MLP(2, [1]))
    with pytest.raises(ValueError, match="0.bias holds <U1, not real numbers"):
        net.load_state_dict({"0.weight": [[1.0, 2.0]], "0.bias": np.array(["a"])})


def test_mlp_names_are_those_of_the_torch_sequential_of_the_same_network():
    assert list(MLP(12, [3, 2]).state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    logits = MLP(2, [16, 16, 1], activation="relu", output_activation=None)  # Linear, ReLU, Linear, ReLU, Linear
    assert [n for n, _ in logits.named_parameters()][::2] == ["0.weight", "2.weight", "4.weight"]
    linear = MLP(2, [4, 3], activation=None)  # no activation modules: Linear, Linear
    assert [n for n, _ in linear.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert [n for n, _ in MLP(2, [3, 1]).named_modules()] == ["", "0", "2"]
