"""ONNX import: graphs built with onnx.helper exactly as torch.onnx exports a Linear/ReLU stack
(Gemm with transB = 1, weights (out, in) as initializers) and as tf2onnx exports Keras Dense
layers (MatMul + Add, relu6 as Clip); onnxruntime is the float reference."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import neurosim as ns
from neurosim.compiler import compile as compile_mlp
from neurosim.errors import InputFileError
from neurosim.interchange import compile_network, load_network
from neurosim.mlp import MLP
from neurosim.compiler.onnx_io import from_onnx, read_onnx
from neurosim.sim import simulate
from neurosim.sniff import looks_like_onnx, sniff

ort = pytest.importorskip("onnxruntime")


def torch_style(mlp, softmax=True, extra=None):
    """input → Flatten → (Gemm transB=1 → Relu)* → Gemm [→ Softmax], opset 17."""
    nodes = [helper.make_node("Flatten", ["input"], ["flat"], name="/Flatten")]
    inits, prev = [], "flat"
    for i, layer in enumerate(mlp.layers):
        w, b = f"fc{i}.weight", f"fc{i}.bias"
        inits += [numpy_helper.from_array(layer.weight.T.copy(), w),
                  numpy_helper.from_array(layer.bias.copy(), b)]
        nodes.append(helper.make_node("Gemm", [prev, w, b], [f"gemm{i}"], name=f"/fc{i}/Gemm",
                                      alpha=1.0, beta=1.0, transB=1))
        prev = f"gemm{i}"
        if i < len(mlp.layers) - 1:
            nodes.append(helper.make_node("Relu", [prev], [f"relu{i}"], name=f"/relu{i}/Relu"))
            prev = f"relu{i}"
    if extra is not None:
        nodes.append(extra(prev))
        prev = nodes[-1].output[0]
    if softmax:
        nodes.append(helper.make_node("Softmax", [prev], ["probs"], name="/Softmax", axis=1))
        prev = "probs"
    return _model(nodes, inits, mlp.sizes[0], mlp.sizes[-1], prev)


def _model(nodes, inits, n_in, n_out, out):
    graph = helper.make_graph(
        nodes, "main_graph",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", n_in])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["batch", n_out])], inits)
    model = helper.make_model(graph, producer_name="pytorch",
                              opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def keras_style(rng, sizes, clip_max=6.0):
    """MatMul (W in, out) + Add, relu6 as Clip(0, 6) with min/max inputs (opset ≥ 11)."""
    nodes, inits, prev = [], [], "input"
    layers = []
    for i in range(len(sizes) - 1):
        w = rng.normal(0, 1 / np.sqrt(sizes[i]), (sizes[i], sizes[i + 1])).astype(np.float32)
        b = rng.normal(0, 0.1, sizes[i + 1]).astype(np.float32)
        layers.append((w, b))
        inits += [numpy_helper.from_array(w, f"dense_{i}/kernel"),
                  numpy_helper.from_array(b, f"dense_{i}/bias")]
        nodes += [helper.make_node("MatMul", [prev, f"dense_{i}/kernel"], [f"mm{i}"],
                                   name=f"mm{i}"),
                  helper.make_node("Add", [f"mm{i}", f"dense_{i}/bias"], [f"add{i}"],
                                   name=f"add{i}")]
        prev = f"add{i}"
        if i < len(sizes) - 2:
            inits += [numpy_helper.from_array(np.array(0.0, np.float32), f"min{i}"),
                      numpy_helper.from_array(np.array(clip_max, np.float32), f"max{i}")]
            nodes.append(helper.make_node("Clip", [prev, f"min{i}", f"max{i}"], [f"clip{i}"],
                                          name=f"relu6_{i}"))
            prev = f"clip{i}"
    return _model(nodes, inits, sizes[0], sizes[-1], prev)


def run_onnx(model, x):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x.astype(np.float32)})[0]


def test_torch_style_mlp_imports_compiles_and_keeps_its_accuracy(tmp_path, dense, digits):
    x, _, xt, yt = digits
    model = torch_style(dense)
    path = tmp_path / "digits.onnx"
    onnx.save(model, path)
    assert sniff(path) == "onnx"
    mlp = read_onnx(path)
    assert mlp.sizes == dense.sizes and mlp.activation == "relu"
    float_acc = np.mean(np.argmax(run_onnx(model, xt), 1) == yt)  # onnxruntime's own answer
    assert mlp.accuracy(xt, yt) == pytest.approx(float_acc, abs=1e-9)
    compiled = compile_mlp(mlp, "truenorth", "bitplane", calibration=x)
    chip = np.mean(simulate(compiled.program, xt, ticks=64).predictions() == yt)
    assert abs(chip - float_acc) <= 0.025  # the compiler's usual bitplane conversion loss


def test_keras_style_matmul_add_and_clip_fold_exactly():
    rng = np.random.default_rng(1)
    model = keras_style(rng, [6, 8, 5, 3])
    mlp = from_onnx(model)
    assert mlp.activation == "clipped_relu" and mlp.steepness == 1.0
    x = rng.random((50, 6)).astype(np.float32) * 20  # large inputs: the clips at 6 bind
    np.testing.assert_allclose(mlp.forward(x), run_onnx(model, x), rtol=1e-4, atol=1e-4)


def test_a_file_is_recognised_by_content_whatever_its_name(tmp_path, dense):
    path = tmp_path / "model.bin"
    onnx.save(torch_style(dense, softmax=False), path)
    assert load_network(path).sizes == dense.sizes


def test_other_ops_are_refused_naming_the_node(dense):
    tanh = lambda prev: helper.make_node("Tanh", [prev], ["t"], name="/act/Tanh")  # noqa: E731
    with pytest.raises(InputFileError, match=r"node '/act/Tanh' \(Tanh\) is not supported, "
                                             r"expected Gemm, MatMul"):
        from_onnx(torch_style(dense, softmax=False, extra=tanh))


def test_a_clip_that_is_not_0_to_m_is_refused():
    model = keras_style(np.random.default_rng(0), [4, 4, 4, 2], clip_max=-1.0)
    with pytest.raises(InputFileError, match=r"node 'relu6_0' \(Clip\) clips to \[0.0, -1.0\], "
                                             r"expected \[0, m\] with m > 0"):
        from_onnx(model)


def test_broken_and_foreign_files_are_refused_in_one_line(tmp_path, dense):
    path = tmp_path / "m.onnx"
    raw = torch_style(dense).SerializeToString()
    path.write_bytes(raw[:len(raw) // 3])
    with pytest.raises(InputFileError) as err:
        load_network(path)
    assert "\n" not in str(err.value) and "m.onnx" in str(err.value)
    path.write_text("hello")
    with pytest.raises(InputFileError, match=r"m.onnx: is a text file, expected an MLP model"):
        load_network(path)


def test_onnx_sniffing_needs_a_model_header(dense):
    raw = torch_style(dense).SerializeToString()
    assert looks_like_onnx(raw[:4096]) and looks_like_onnx(raw[:40])
    assert not looks_like_onnx(b"\x08\x07" + b"\xff" * 40)  # field 31, wire type 7: not ONNX
    assert not looks_like_onnx(b"\x12\x03abc\x08\x07")  # must open with ir_version
    assert not looks_like_onnx(b"\x08\x00\x12\x03abc")  # ir_version 0
    rng = np.random.default_rng(0)
    false = sum(looks_like_onnx(bytes(rng.integers(0, 256, 64, dtype=np.uint8)))
                for _ in range(2000))
    assert false <= 2


def test_compile_network_takes_any_model_file(tmp_path, dense, digits):
    """compile_network: an ONNX file (no dataset in it) compiles with --calibration, and the
    program's meta names the file and its format."""
    path = tmp_path / "digits.onnx"
    onnx.save(torch_style(dense), path)
    compiled, meta = compile_network(path, "ideal", calibration="digits")
    assert meta == {"path": str(path), "dataset": "digits", "format": "onnx"}
    _, _, xt, yt = digits
    acc = np.mean(simulate(compiled.program, xt, mode="rate").predictions() == yt)
    assert abs(acc - dense.accuracy(xt, yt)) <= 0.01
    compiled, meta = compile_network(path, "ideal")  # uniform calibration inputs
    assert compiled.program.n_inputs == 64 and meta["dataset"] is None
    bare = tmp_path / "bare.npz"
    MLP(dense.layers, dense.activation, dense.steepness).save(bare)
    with pytest.raises(InputFileError, match=r"bare.npz: provenance dataset is None, not one of "
                                             r"digits, .*; expected argument .calibration. DATASET") as err:
        compile_network(bare, "ideal")
    assert err.value.param == "calibration"  # the CLI shows it as --calibration


def test_a_mission_flies_an_onnx_model(tmp_path):
    path = tmp_path / "digits.onnx"
    onnx.save(torch_style(MLP.load("models/digits_dense.npz")), str(path))
    res = ns.run_mission("leo_10y", runs=2, out_dir=str(tmp_path / "m"), workers=1,
                         progress=False, model=str(path))
    assert res.summary["runs"] == 2 and res.summary["cores"] >= 1
    assert res.summary["baseline_accuracy"] > 0.9          # the digits network, via ONNX


def test_a_node_off_the_chain_is_refused_naming_it():
    """A second Gemm that reads the graph input instead of the Relu's output (a branch, as in a
    skip connection) has the right shapes but is not an MLP: refused, naming node and tensor."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(size=(4, 4)).astype(np.float32), "w0"),
             numpy_helper.from_array(rng.normal(size=(2, 4)).astype(np.float32), "w1")]
    nodes = [helper.make_node("Gemm", ["input", "w0"], ["g0"], name="fc0", transB=1),
             helper.make_node("Relu", ["g0"], ["r0"], name="relu0"),
             helper.make_node("Gemm", ["input", "w1"], ["g1"], name="fc1", transB=1)]
    with pytest.raises(InputFileError, match=r"node 'fc1' \(Gemm\) reads input, expected the "
                                             r"output of the node before it, 'r0'"):
        from_onnx(_model(nodes, inits, 4, 2, "g1"))
    nodes[2] = helper.make_node("Gemm", ["r0", "w1"], ["g1"], name="fc1", transB=1)
    assert from_onnx(_model(nodes, inits, 4, 2, "g1")).sizes == [4, 4, 2]
    with pytest.raises(InputFileError, match=r"graph output r0, expected the last node's output "
                                             r"'g1'"):
        from_onnx(_model(nodes, inits, 4, 4, "r0"))
