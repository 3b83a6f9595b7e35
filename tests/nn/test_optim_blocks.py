"""AdamW, RMSprop, the learning-rate schedules and gradient clipping (issue 19): against torch.optim and
torch.nn.utils in float64, and resumed from their state_dicts (through a file) equal to an uninterrupted run
bit for bit."""

import math

import numpy as np
import pytest

from tinygrad_nn import Value, load, save
from tinygrad_nn.data import load_digits_4x3
from tinygrad_nn.nn import MLP, Dropout, squared_error
from tinygrad_nn.nn.utils import clip_grad_norm_, clip_grad_value_
from tinygrad_nn.optim import SGD, Adam, AdamW, RMSprop
from tinygrad_nn.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiStepLR,
    SequentialLR,
    StepLR,
)

torch = pytest.importorskip("torch")
DATA = load_digits_4x3()


def _torch_net(net):
    t = torch.nn.Sequential(torch.nn.Linear(12, 3), torch.nn.Sigmoid(), torch.nn.Linear(3, 2),
                            torch.nn.Sigmoid()).double()
    t.load_state_dict({k: torch.from_numpy(v) for k, v in net.state_dict().items()})
    return t


def _train_both(make, tmake, steps=25, clip=None, schedule=None, tschedule=None):
    net = MLP(12, [3, 2], seed=0)
    t = _torch_net(net)
    opt, topt = make(net.parameters()), tmake(t.parameters())
    sched = schedule(opt) if schedule else None
    tsched = tschedule(topt) if tschedule else None
    x, y = torch.from_numpy(DATA.inputs), torch.from_numpy(DATA.targets)
    for _ in range(steps):
        opt.zero_grad()
        squared_error(net(DATA.inputs), DATA.targets).backward()
        topt.zero_grad()
        (0.5 * ((t(x) - y) ** 2).sum()).backward()
        if clip is not None:
            ours = clip(net.parameters())
            theirs = clip(list(t.parameters()), torch_side=True)
            if ours is not None:
                assert abs(float(ours) - float(theirs)) < 1e-12
        opt.step()
        topt.step()
        if sched:
            sched.step()
            tsched.step()
            assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), abs=1e-12)  # torch: recursive forms
    for (name, p), tp in zip(net.named_parameters(), t.parameters()):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=0, atol=1e-12, err_msg=name)
    return net


@pytest.mark.parametrize("kw", [{}, {"weight_decay": 0.1, "betas": (0.8, 0.95), "eps": 1e-6}])
def test_adamw_matches_torch(kw):
    _train_both(lambda ps: AdamW(ps, lr=0.05, **kw), lambda ps: torch.optim.AdamW(ps, lr=0.05, **kw))


@pytest.mark.parametrize("kw", [{}, {"momentum": 0.9}, {"centered": True, "weight_decay": 0.01},
                                {"centered": True, "momentum": 0.5, "alpha": 0.9}])
def test_rmsprop_matches_torch(kw):
    _train_both(lambda ps: RMSprop(ps, lr=0.01, **kw), lambda ps: torch.optim.RMSprop(ps, lr=0.01, **kw))


def _warmup_then(after, torch_after):
    """Five epochs of linear warm-up, then `after`: SequentialLR here and in torch."""
    return (lambda o: SequentialLR(o, [LinearLR(o, start_factor=0.2, total_iters=5), after(o)], milestones=[5]),
            lambda o: torch.optim.lr_scheduler.SequentialLR(
                o, [torch.optim.lr_scheduler.LinearLR(o, start_factor=0.2, total_iters=5), torch_after(o)],
                milestones=[5]))


SCHEDULES = {
    "step": (lambda o: StepLR(o, step_size=4, gamma=0.5),
             lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.5)),
    "cosine": (lambda o: CosineAnnealingLR(o, T_max=10, eta_min=0.001),
               lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001)),
    "lambda": (lambda o: LambdaLR(o, lambda e: 1 / (1 + e)),
               lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (1 + e))),
    "linear": (lambda o: LinearLR(o, start_factor=0.1, total_iters=6),
               lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=6)),
    "multistep": (lambda o: MultiStepLR(o, milestones=[9, 3, 12], gamma=0.5),
                  lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[9, 3, 12], gamma=0.5)),
    "exponential": (lambda o: ExponentialLR(o, gamma=0.9),
                    lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)),
    "warmup_exponential": _warmup_then(lambda o: ExponentialLR(o, gamma=0.8),
                                       lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8)),
    "warmup_cosine": _warmup_then(lambda o: CosineAnnealingLR(o, T_max=15),
                                  lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=15)),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedules_match_torch(name):
    ours, theirs = SCHEDULES[name]
    _train_both(lambda ps: SGD(ps, lr=0.5, momentum=0.9), lambda ps: torch.optim.SGD(ps, lr=0.5, momentum=0.9),
                steps=20, schedule=ours, tschedule=theirs)


def test_cosine_reaches_eta_min_and_warmup_starts_low():
    opt = SGD([Value(np.zeros(1))], lr=1.0)
    cos = CosineAnnealingLR(opt, T_max=4)
    rates = [cos.get_last_lr()[0]]
    for _ in range(4):
        opt.step()
        cos.step()
        rates.append(cos.get_last_lr()[0])
    assert rates[0] == 1.0 and rates[2] == pytest.approx(0.5) and rates[4] == 0.0
    assert opt.param_groups[0]["lr"] == 0.0  # the optimizer runs (and saves) at lr 0 where a schedule took it
    opt.load_state_dict(opt.state_dict())


def _clip_norm(max_norm, norm_type=2.0):
    def clip(params, torch_side=False):
        if torch_side:
            return torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
        return clip_grad_norm_(params, max_norm, norm_type)
    return clip


def _clip_value(c):
    def clip(params, torch_side=False):
        (torch.nn.utils.clip_grad_value_ if torch_side else clip_grad_value_)(params, c)
    return clip


@pytest.mark.parametrize("clip", [_clip_norm(0.5), _clip_norm(0.3, math.inf), _clip_norm(100.0), _clip_value(0.05)])
def test_gradient_clipping_matches_torch(clip):
    _train_both(lambda ps: SGD(ps, lr=0.5), lambda ps: torch.optim.SGD(ps, lr=0.5), steps=15, clip=clip)


def test_clip_grad_norm_scales_scalar_and_tensor_gradients_together():
    a, b = Value(0.0), Value(np.zeros(2))
    a.grad, b.grad = 3.0, np.array([0.0, 4.0])
    assert float(clip_grad_norm_([a, b], 1.0)) == 5.0
    assert a.grad == pytest.approx(0.6) and b.grad[1] == pytest.approx(0.8)
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total norm of the gradients is nan"):
        b.grad[0] = np.nan
        clip_grad_norm_([a, b], 1.0, error_if_nonfinite=True)
    with pytest.raises(TypeError, match="clip_grad_norm_: got the model itself"):
        clip_grad_norm_(MLP(2, [1]), 1.0)


def _run(steps, state_path=None, resume_from=None):
    """AdamW + warm-up then cosine + clipping + dropout on the book's data: `steps` steps, optionally saved to a
    file at the end, or resumed from one at the start."""
    net = MLP(12, [3, 2], seed=0)
    drop = Dropout(0.2, seed=3)
    opt = AdamW(net.parameters(), lr=0.05, weight_decay=0.05)
    sched = SequentialLR(opt, [LinearLR(opt, start_factor=0.1, total_iters=4), CosineAnnealingLR(opt, T_max=30)],
                         milestones=[4])
    if resume_from is not None:
        state = load(resume_from)
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        drop.set_generator_state(state["dropout"])
    for _ in range(steps):
        opt.zero_grad()
        squared_error(net(drop(DATA.inputs)), DATA.targets).backward()
        clip_grad_norm_(net.parameters(), 0.5)
        opt.step()
        sched.step()
    if state_path is not None:
        save({"model": net.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
              "dropout": drop.generator_state()}, state_path)
    return net, opt


def test_training_resumed_from_a_file_equals_the_uninterrupted_run_bit_for_bit(tmp_path):
    straight, straight_opt = _run(20)
    _run(7, state_path=tmp_path / "k.npz")
    resumed, resumed_opt = _run(13, resume_from=tmp_path / "k.npz")
    for p, q in zip(straight.parameters(), resumed.parameters()):
        assert np.array_equal(p.data, q.data)
    assert resumed_opt.param_groups[0]["lr"] == straight_opt.param_groups[0]["lr"]
    different, _ = _run(13)  # not resumed: a different result, so the comparison above can fail
    assert not all(np.array_equal(p.data, q.data) for p, q in zip(straight.parameters(), different.parameters()))


def test_rmsprop_state_resumes_exactly():
    def run(steps, opt_state=None, nets=None):
        net = nets or MLP(12, [3, 2], seed=1)
        opt = RMSprop(net.parameters(), lr=0.01, momentum=0.5, centered=True)
        if opt_state is not None:
            opt.load_state_dict(opt_state)
        for _ in range(steps):
            opt.zero_grad()
            squared_error(net(DATA.inputs), DATA.targets).backward()
            opt.step()
        return net, opt
    straight, _ = run(10)
    half, opt = run(4)
    resumed, _ = run(6, opt.state_dict(), half)
    assert all(np.array_equal(p.data, q.data) for p, q in zip(straight.parameters(), resumed.parameters()))


def test_scheduler_refusals():
    opt = SGD([Value(np.zeros(1))], lr=1.0)
    with pytest.raises(ValueError, match="StepLR: step_size must be a whole number >= 1, got 0"):
        StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match=r"LambdaLR: the schedule gave lr -1.0 at epoch 0"):
        LambdaLR(opt, lambda e: -1.0)
    with pytest.raises(TypeError, match="LambdaLR: lr_lambda must be a function of the epoch"):
        LambdaLR(opt, 0.5)
    with pytest.raises(ValueError, match="StepLR.load_state_dict: expected the dict"):
        StepLR(opt, step_size=2).load_state_dict({"last_epoch": 3})


OPTIMIZERS = {"Adam": Adam, "AdamW": AdamW, "SGD": SGD, "RMSprop": RMSprop}


@pytest.mark.parametrize(("name", "kw"), [
    ("Adam", {"amsgrad": True}), ("AdamW", {"amsgrad": True, "weight_decay": 0.1}),
    ("Adam", {"maximize": True}), ("AdamW", {"maximize": True, "amsgrad": True}),
    ("SGD", {"maximize": True}), ("SGD", {"maximize": True, "momentum": 0.9, "weight_decay": 0.01}),
    ("RMSprop", {"maximize": True, "centered": True, "momentum": 0.5}),
])
def test_amsgrad_and_maximize_match_torch(name, kw):
    _train_both(lambda ps: OPTIMIZERS[name](ps, lr=0.05, **kw),
                lambda ps: getattr(torch.optim, name)(ps, lr=0.05, **kw))


def test_amsgrad_state_resumes_exactly_and_flags_are_checked():
    net = _train_both(lambda ps: Adam(ps, lr=0.05, amsgrad=True),
                      lambda ps: torch.optim.Adam(ps, lr=0.05, amsgrad=True), steps=3)
    opt = Adam(net.parameters(), lr=0.05, amsgrad=True)
    squared_error(net(DATA.inputs), DATA.targets).backward()
    opt.step()
    state = opt.state_dict()
    assert set(state["state"][0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    again = Adam(net.parameters(), lr=0.05, amsgrad=True)
    again.load_state_dict(state)
    assert again.state_dict()["param_groups"] == state["param_groups"]
    with pytest.raises(TypeError, match=r"Adam: amsgrad must be True or False, got 'yes'"):
        Adam(net.parameters(), amsgrad="yes")
    with pytest.raises(TypeError, match=r"SGD: maximize must be True or False, got 1"):
        SGD(net.parameters(), maximize=1)
