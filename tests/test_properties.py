"""Properties are data: every property of the bundled course names an engine judge family
and gives it plain-data parameters only (so public cases can be frozen into a student kit),
and the families judge hand-made student values as the course's messages say."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dlgrade.courses import course
from dlgrade.spec.exercise import SpecError
from dlgrade.spec.properties import FAMILIES, Missing, Property

COURSE = course.use(course.load(Path(__file__).resolve().parent.parent))
PROGRAMS = [e for a in COURSE.assignments.values() for e in a.exercises if e.kind == "program"]


def _not_plain(value, where="params"):
    """Where ``value`` holds something that is not plain data, or None."""
    if value is None or type(value) in (bool, int, float, str):
        return None
    if isinstance(value, np.ndarray | np.generic):
        return None
    if type(value) in (list, tuple):
        return next((w for i, v in enumerate(value) if (w := _not_plain(v, f"{where}[{i}]"))),
                    None)
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                return f"{where}: key {key!r}"
            found = _not_plain(item, f"{where}[{key!r}]")
            if found:
                return found
        return None
    return f"{where}: {type(value).__name__}"


@pytest.mark.parametrize("exercise", PROGRAMS, ids=lambda e: e.id)
def test_every_property_is_an_engine_family_with_plain_data(exercise):
    for scenario in exercise.scenarios(True):
        for prop in scenario.properties:
            where = f"{exercise.id} {scenario.describe()} {prop.check}"
            assert prop.family in FAMILIES, where
            assert FAMILIES[prop.family].__module__ == "dlgrade.spec.properties", where
            assert type(prop.params) is dict, where
            assert _not_plain(prop.params) is None, (where, _not_plain(prop.params))
            assert prop.reads is None or all(type(r) is str for r in prop.reads), where


def test_the_course_has_public_and_hidden_properties():
    public = hidden = 0
    for exercise in PROGRAMS:
        for scenario in exercise.scenarios(True):
            public += not scenario.hidden and bool(scenario.properties)
            hidden += scenario.hidden and bool(scenario.properties)
    assert public > 10 and hidden > 10


def test_unknown_family_bad_params_and_code_in_params_are_spec_errors():
    with pytest.raises(SpecError, match="unknown judge family 'no_such_family'"):
        Property("c", "no_such_family", {})
    with pytest.raises(SpecError, match="input_unchanged"):
        Property("c", "input_unchanged", {"called": "n", "prefix": "g["})  # no mistake
    with pytest.raises(SpecError, match="input_unchanged"):
        Property("c", "input_unchanged", {"called": "n", "prefix": "g[", "mistake": "m",
                                          "extra": 1})
    with pytest.raises(SpecError, match="not plain data"):
        Property("c", "input_unchanged", {"called": "n", "prefix": "g[",
                                          "mistake": lambda: "m"})


# ---------------------------------------------------------------- families on hand-made values

KEEP = "p used as the keep probability"


def _dropout_out(x, p, fraction, rng):
    """An out of inverted dropout on x dropping exactly ``fraction`` of the entries."""
    dropped = rng.permutation(x.size) < round(fraction * x.size)
    return np.where(dropped.reshape(x.shape), 0.0, x / (1.0 - p))


def test_dropout_rate():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 2.0, (100, 100))
    prop = Property("rate", "dropout_rate", {"p": 0.2, "x": x, "z": 5.5, "keep": KEEP})
    assert prop.judge({"out": _dropout_out(x, 0.2, 0.2, rng)}, {}) is None
    assert prop.judge({"out": _dropout_out(x, 0.2, 0.203, rng)}, {}) is None
    message = prop.judge({"out": _dropout_out(x, 0.2, 0.8, rng)}, {})
    assert message == ("0.8000 of the entries are dropped where p = 0.2: p used as the keep "
                       "probability; p is the probability of DROPPING an entry")
    message = prop.judge({"out": _dropout_out(x, 0.2, 0.5, rng)}, {})
    assert message == ("0.5000 of the entries are dropped; with p = 0.2 the fraction must lie "
                       "within 0.2 +- 0.0220 (5.5 standard deviations)")
    assert prop.judge({"out": Missing("dropout_forward is not implemented")}, {}) == \
        "dropout_forward is not implemented"


def test_dropout_with_keep_probability_speaks_of_keeping():
    """CS231n's convention: p is the probability of KEEPING an entry. The same families judge
    it with probability="keep", and their messages say x / p, not x / (1 - p)."""
    rng = np.random.default_rng(3)
    x = rng.uniform(0.5, 2.0, (100, 100))
    other = "p used as the drop probability"
    params = {"p": 0.8, "x": x, "unscaled": "not inverted", "keep": other,
              "probability": "keep"}
    scaling = Property("scaling", "dropout_scaling", params)
    rate = Property("rate", "dropout_rate", {"p": 0.8, "x": x, "z": 5.5, "keep": other,
                                             "probability": "keep"})
    kept = rng.random(x.shape) < 0.8
    right = np.where(kept, x / 0.8, 0.0)
    assert scaling.judge({"out": right}, {}) is None
    assert rate.judge({"out": right}, {}) is None
    as_drop = np.where(rng.random(x.shape) < 0.2, x / 0.2, 0.0)  # p read as the drop rate
    assert scaling.judge({"out": as_drop}, {}) == (
        "kept entries are x / 0.2: p used as the drop probability; p is the probability of "
        "KEEPING an entry, so kept entries are x / p")
    assert rate.judge({"out": as_drop}, {}).endswith(
        "p used as the drop probability; p is the probability of KEEPING an entry")
    unscaled = np.where(kept, x, 0.0)
    assert scaling.judge({"out": unscaled}, {}).startswith(
        "kept entries equal x: not inverted (inverted dropout divides them by 0.8")
    with pytest.raises(ValueError, match="'drop' or 'keep'"):
        Property("scaling", "dropout_scaling", {**params, "probability": "kept"}).judge(
            {"out": right}, {})


def test_dropout_properties_builds_the_five_checks_for_either_convention():
    """One declaration gives scaling, rate, backward, test and fresh with the course's
    observation names and mistakes; a correct keep-probability dropout passes them all and
    a non-inverted one loses exactly scaling (and the backward that follows its scale)."""
    from dlgrade.authoring import dropout_properties

    rng = np.random.default_rng(4)
    x = rng.uniform(0.5, 2.0, (50, 40)) * rng.choice((-1.0, 1.0), (50, 40))
    dout = rng.standard_normal(x.shape)
    mistakes = {"unscaled": "u", "other_convention": "o", "new_mask": "n", "test_mode": "t",
                "same_mask": "s"}
    props = dropout_properties(0.7, x, dout, probability="keep", mistakes=mistakes,
                               names={"test out": "out (test)", "test dx": "dx (test)"})
    assert [p.check for p in props] == ["scaling", "rate", "backward", "test", "fresh"]

    def student(scale):
        m1, m2 = rng.random(x.shape) < 0.7, rng.random(x.shape) < 0.7
        return {"out": np.where(m1, x * scale, 0.0), "dx": np.where(m1, dout * scale, 0.0),
                "out of a second call": np.where(m2, x * scale, 0.0),
                "out (test)": x.copy(), "dx (test)": dout.copy()}

    assert [p.judge(student(1 / 0.7), {}) for p in props] == [None] * 5
    lost = [p.check for p in props if p.judge(student(1.0), {}) is not None]
    assert lost == ["scaling"]


def test_decision_sequence_names_the_mistake():
    params = {"expected": [False, False, True], "mistakes": {
        "counter not reset": [False, True, True], "stops late": [False, False, False]},
        "values": [1.0, 1.5, 1.25], "hidden": False, "constructor": "EarlyStopping(...)"}
    prop = Property("decisions", "decision_sequence", params)

    def answers(*bools):
        return {"EarlyStopping(...)": None,
                **{f"step {k + 1}": np.array(float(b)) for k, b in enumerate(bools)}}

    assert prop.judge(answers(False, False, True), {}) is None
    assert prop.judge(answers(False, False, False), {}) == \
        "the decisions match a common mistake: stops late"
    assert prop.judge(answers(True, False, True), {}) == \
        "call 1 (val_loss=1.0) returned True, expected False (losses so far: [1.0])"
    hidden = Property("decisions", "decision_sequence", {**params, "hidden": True})
    assert hidden.judge(answers(True, False, True), {}) == \
        "step returned a wrong decision at call 1"
    failed = {"EarlyStopping(...)": Missing("EarlyStopping raised ValueError")}
    assert prop.judge(failed, {}) == "EarlyStopping raised ValueError"


def test_init_variance_names_a_wrong_std():
    std = 0.1
    shape = (300, 400)
    prop = Property("variance", "init_variance", {
        "function": "he_normal", "shape": shape, "std": std, "distribution": "normal",
        "fans": (300, 400), "z": 5.5,
        "wrong": {"the variance used as the standard deviation": std * std,
                  "gain ignored": -1.0, "fan_out used where fan_in belongs": 0.0866}})
    rng = np.random.default_rng(1)
    assert prop.judge({"w": rng.normal(0, std, shape)}, {}) is None
    message = prop.judge({"w": rng.normal(0, std * np.sqrt(300 / 400), shape)}, {})
    assert message.startswith("the weights' std is 0.08")
    assert message.endswith("where it must be 0.1 (fan_in=300, fan_out=400): fan_out used "
                            "where fan_in belongs")
    message = prop.judge({"w": rng.normal(0, 0.5, shape)}, {})
    assert message.endswith("(fan_in=300, fan_out=400)")  # no known mistake draws 0.5
    assert prop.judge({"w": np.zeros((3, 4))}, {}) == "w has shape (3, 4), expected (300, 400)"


def test_config_defaults():
    prop = Property("defaults", "config_defaults",
                    {"function": "adam", "keys": ["learning_rate", "beta1"],
                     "missing": "fill in each missing default"})
    reference = {"config": {"learning_rate": np.array(0.01), "beta1": np.array(0.9)}}
    good = {"config": {"learning_rate": np.array(0.01), "beta1": np.array(0.9),
                       "m": np.zeros(3)}}
    assert prop.judge(good, reference) is None
    assert prop.judge({"config": {"learning_rate": np.array(0.01)}}, reference) == \
        "the returned config has no 'beta1': fill in each missing default"
    wrong = {"config": {"learning_rate": np.array(0.001), "beta1": np.array(0.9)}}
    assert prop.judge(wrong, reference) == (
        "config['learning_rate'] is 0.001 at the end, expected 0.01 (the value given in "
        "config, else the documented default)")
    assert prop.judge({"config": [1, 2]}, reference) == \
        "adam must return (next_w, config) with config a dict"


def test_input_unchanged():
    prop = Property("input_unchanged", "input_unchanged",
                    {"called": "total_norm", "prefix": "grads[", "mistake": "scaled in place"})
    w = np.arange(6.0).reshape(2, 3)
    reference = {"total_norm": np.array(2.0), "grads['w'] after the call": w}
    assert prop.judge({"total_norm": np.array(1.0), "grads['w'] after the call": w.copy(),
                       "clipped['w']": w / 2}, reference) is None
    assert prop.judge({"total_norm": np.array(1.0), "grads['w'] after the call": w / 2},
                      reference) == \
        "grads['w'] after the call differs from what was passed in: scaled in place"
    assert prop.judge({"total_norm": Missing("clip_grad_norm is not implemented"),
                       "grads['w'] after the call": w.copy()}, reference) == \
        "clip_grad_norm is not implemented"


def test_seeded_family_same_seed_same_output():
    """The generic "same seed, same output" family: equal for one seed, different for
    another, with the course's own words for the mistake; a failed call is reported as
    itself; init_seeded is this family for an initialiser."""
    prop = Property("seeded", "seeded", {
        "function": "dropout_forward", "first": "out", "again": "out again",
        "other": "out other seed", "ignores_seed": "dropout_param['seed'] is not used"})
    a, b = np.arange(6.0), np.arange(6.0) + 1
    assert prop.judge({"out": a, "out again": a.copy(), "out other seed": b}, {}) is None
    assert prop.judge({"out": a, "out again": b, "out other seed": b}, {}) == (
        "two calls of dropout_forward with the same seed returned different values: "
        "dropout_param['seed'] is not used")
    assert prop.judge({"out": a, "out again": a, "out other seed": a}, {}).startswith(
        "two different seeds gave the same values from dropout_forward")
    assert prop.judge({"out": Missing("dropout_forward raised KeyError: 'seed'"),
                       "out again": a, "out other seed": b}, {}) == \
        "dropout_forward raised KeyError: 'seed'"
    nested = Property("seeded", "seeded", {"function": "sample_batch", "first": "x",
                                           "again": "y", "ignores_seed": "global RNG"})
    assert nested.judge({"x": [a, {"k": b}], "y": [a, {"k": b}]}, {}) is None
    assert nested.judge({"x": [a, {"k": b}], "y": [a, {"k": a}]}, {}) is not None
    init = Property("seeded", "init_seeded", {"function": "he_normal", "shape": [6],
                                               "no_rng": "rng ignored"})
    assert init.judge({"w small": a, "w again": b, "w other seed": b}, {}) == (
        "two calls of he_normal with the same seed returned different values: rng ignored; "
        "draw every number from rng")


def test_init_mean_judges_centring_whatever_the_scale():
    """A draw three times too wide is centred (its scale is the variance check's business);
    one shifted by a few of its own standard errors is not."""
    init_mean = FAMILIES["init_mean"]
    rng = np.random.default_rng(5)
    kwargs = {"function": "he_normal", "shape": [64, 32], "std": 0.1, "z": 5.5}
    wide = rng.normal(0.0, 0.3, size=(64, 32))
    wide -= wide.mean() - 4.0 * 0.3 / np.sqrt(wide.size)  # 4 of its own standard errors off
    assert init_mean({"w": wide}, {}, **kwargs) is None
    shifted = wide + 0.3 * 3.0 / np.sqrt(wide.size)  # 7 of them
    assert "the mean of the weights" in init_mean({"w": shifted}, {}, **kwargs)
