"""The lookup tables read straight out of a graph file, and the sessions that share them."""

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidArgument, InvalidProtobuf

from models.backends import OnnxBackend
from models.onnxfile import MIN_SHARED_BYTES, lookup_tables

ROWS, WIDTH = 4096, 384  # a 1.5 MiB int8 table: large enough to be shared


def _graph(path: Path, *, another_op_reads_table: bool = False) -> dict[str, np.ndarray]:
    """Write ids -> Gather(table) -> Cast -> MatMul(weight), and return its initializers."""
    rng = np.random.default_rng(0)
    arrays = {
        "table": rng.integers(-128, 127, size=(ROWS, WIDTH), dtype=np.int8),
        "weight": rng.standard_normal((WIDTH, 1024)).astype(np.float32),  # 1.5 MiB, MatMul's
        "bias": rng.standard_normal(1024).astype(np.float32),  # small
    }
    nodes = [
        helper.make_node("Gather", ["table", "ids"], ["rows"]),
        helper.make_node("Cast", ["rows"], ["wide"], to=TensorProto.FLOAT),
        helper.make_node("MatMul", ["wide", "weight"], ["mixed"]),
        helper.make_node("Add", ["mixed", "bias"], ["out"]),
    ]
    if another_op_reads_table:  # the table is read by another op too: it is not only a lookup
        nodes.append(helper.make_node("Shape", ["table"], ["table_shape"]))
    outputs = [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)]
    if another_op_reads_table:
        outputs.append(helper.make_tensor_value_info("table_shape", TensorProto.INT64, None))
    graph = helper.make_graph(
        nodes,
        "lookup",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["n"])],
        outputs,
        [numpy_helper.from_array(array, name) for name, array in arrays.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return arrays


def test_only_a_large_table_that_only_gather_reads_is_returned(tmp_path):
    arrays = _graph(tmp_path / "g.onnx")
    tables = lookup_tables(tmp_path / "g.onnx")
    assert list(tables) == ["table"]  # not the MatMul's weight, not the small bias
    assert arrays["table"].nbytes >= MIN_SHARED_BYTES
    np.testing.assert_array_equal(tables["table"], arrays["table"])
    assert not tables["table"].flags.writeable  # the sessions only read it


def test_a_table_read_by_another_op_too_is_left_to_the_session(tmp_path):
    _graph(tmp_path / "g.onnx", another_op_reads_table=True)
    assert lookup_tables(tmp_path / "g.onnx") == {}


@pytest.mark.parametrize("content", [b"", b"\x0f\xff\xff", b"not a graph at all"])
def test_a_file_that_is_not_a_graph_gives_no_tables_and_the_session_says_why(tmp_path, content):
    path = tmp_path / "broken.onnx"
    path.write_bytes(content)
    assert lookup_tables(path) == {}
    assert lookup_tables(tmp_path / "missing.onnx") == {}
    with pytest.raises((InvalidArgument, InvalidProtobuf, Fail)):  # ONNX Runtime's own word
        OnnxBackend(path)


def test_sessions_sharing_the_table_answer_as_a_session_with_its_own_copy(tmp_path):
    path = tmp_path / "g.onnx"
    _graph(path)
    own = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    backend = OnnxBackend(path, threads=2, lanes=2)
    assert set(backend.tables) == {"table"} and backend.narrow is not backend.session
    ids = {"ids": np.array([0, 7, ROWS - 1, 7], dtype=np.int64)}
    expected = own.run(["out"], ids)[0]
    for session in (backend.session, backend.narrow):
        np.testing.assert_allclose(session.run(["out"], ids)[0], expected, rtol=1e-5)


@pytest.mark.slow
def test_the_exported_int8_graph_shares_its_word_embeddings(quick_bundle):
    from models.bundle import ONNX_FILES

    path = quick_bundle / ONNX_FILES["onnx-int8"]
    expected = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}
    tables = lookup_tables(path)
    assert any("word_embeddings" in name for name in tables)
    for name, table in tables.items():
        np.testing.assert_array_equal(table, expected[name])
