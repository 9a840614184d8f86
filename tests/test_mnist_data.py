"""The MNIST loader, on IDX files the tests write themselves."""

import gzip
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

import mnist_data
from mnist_data import FILES, MnistError, load_mnist

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"


@pytest.fixture(scope="module")
def raw_mnist(mnist_dir):
    """The uncompressed bytes of the four real files."""
    contents = {}
    for name in FILES:
        path = mnist_dir / f"{name}.gz"
        data = path.read_bytes()
        contents[name] = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    return contents


def write_folder(folder, contents, compress):
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        if compress:
            # Another gzip level than the official files: the .gz bytes differ,
            # the uncompressed checksum must still pass.
            (folder / f"{name}.gz").write_bytes(gzip.compress(data, compresslevel=1))
        else:
            (folder / name).write_bytes(data)
    return folder


def idx_bytes(magic, shape, payload):
    header = magic.to_bytes(4, "big")
    header += b"".join(size.to_bytes(4, "big") for size in shape)
    return header + payload


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "raw"])
def test_good_files_give_the_keras_arrays(tmp_path, raw_mnist, compress):
    folder = write_folder(tmp_path / "mnist", raw_mnist, compress)
    (x_train, y_train), (x_test, y_test) = load_mnist(folder)
    # What keras.datasets.mnist.load_data() returns.
    assert (x_train.shape, x_train.dtype) == ((60000, 28, 28), np.uint8)
    assert (y_train.shape, y_train.dtype) == ((60000,), np.uint8)
    assert (x_test.shape, x_test.dtype) == ((10000, 28, 28), np.uint8)
    assert (y_test.shape, y_test.dtype) == ((10000,), np.uint8)
    assert y_train[:8].tolist() == [5, 0, 4, 1, 9, 2, 1, 3]
    assert y_test[:8].tolist() == [7, 2, 1, 0, 4, 1, 4, 9]
    assert x_train.max() == 255 and x_train.min() == 0
    x_train[0, 0, 0] = 1  # writable, like Keras' arrays


def test_mnist_dir_environment_variable(tmp_path, raw_mnist, monkeypatch):
    folder = write_folder(tmp_path / "from-env", raw_mnist, compress=True)
    monkeypatch.setenv("MNIST_DIR", str(folder))
    (_, y_train), _ = load_mnist()
    assert len(y_train) == 60000


def test_missing_folder_says_where_and_what_to_do(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(MnistError) as raised:
        load_mnist(missing)
    message = str(raised.value)
    assert message.startswith(
        f"MNIST not found: {missing} (from --data-dir or MNIST_DIR)"
    )
    assert "train-images-idx3-ubyte" in message and "unset MNIST_DIR" in message
    assert not missing.exists()


def test_missing_file_is_named(tmp_path, raw_mnist):
    contents = {name: data for name, data in raw_mnist.items() if name != TRAIN_LABELS}
    folder = write_folder(tmp_path / "three", contents, compress=True)
    with pytest.raises(MnistError, match=f"has no {TRAIN_LABELS} \\(plain or .gz\\)"):
        load_mnist(folder)


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "raw"])
def test_truncated_file(tmp_path, raw_mnist, compress):
    folder = write_folder(tmp_path / "mnist", raw_mnist, compress=False)
    data = raw_mnist[TRAIN_LABELS][:-100]
    if compress:
        (folder / TRAIN_LABELS).unlink()
        path = folder / f"{TRAIN_LABELS}.gz"
        # A gzip stream cut short: decompression itself fails.
        path.write_bytes(gzip.compress(raw_mnist[TRAIN_LABELS])[:-100])
        expected = f"{path}: cannot be read (Compressed file ended before"
    else:
        path = folder / TRAIN_LABELS
        path.write_bytes(data)
        expected = f"{path}: 59908 bytes, expected 60008 for shape (60000,)"
    with pytest.raises(MnistError) as raised:
        load_mnist(folder)
    assert str(raised.value).startswith(expected)


def test_wrong_magic_number(tmp_path, raw_mnist):
    folder = write_folder(tmp_path / "mnist", raw_mnist, compress=False)
    # A label file where an image file belongs.
    (folder / TRAIN_IMAGES).write_bytes(idx_bytes(2049, (60000,), bytes(60000)))
    with pytest.raises(MnistError) as raised:
        load_mnist(folder)
    assert str(raised.value) == (
        f"{folder / TRAIN_IMAGES}: magic number 2049, expected 2051 "
        f"({TRAIN_IMAGES} is an IDX file of 3 dimension(s))."
    )


def test_wrong_count(tmp_path, raw_mnist):
    folder = write_folder(tmp_path / "mnist", raw_mnist, compress=False)
    (folder / TRAIN_LABELS).write_bytes(idx_bytes(2049, (59999,), bytes(59999)))
    with pytest.raises(MnistError) as raised:
        load_mnist(folder)
    assert str(raised.value) == (
        f"{folder / TRAIN_LABELS}: header says shape (59999,), expected (60000,)."
    )


def test_checksum_mismatch(tmp_path, raw_mnist):
    folder = write_folder(tmp_path / "mnist", raw_mnist, compress=True)
    corrupt = bytearray(raw_mnist[TRAIN_LABELS])
    corrupt[-1] = (corrupt[-1] + 1) % 10  # one label changed: header and size fine
    path = folder / f"{TRAIN_LABELS}.gz"
    path.write_bytes(gzip.compress(bytes(corrupt)))
    with pytest.raises(MnistError) as raised:
        load_mnist(folder)
    message = str(raised.value)
    assert message.startswith(f"{path}: SHA-256 of the uncompressed data is ")
    assert f"expected {FILES[TRAIN_LABELS][0]}" in message


class Mirror:
    """A local HTTP server on 127.0.0.1 that plays an MNIST mirror."""

    def __init__(self, files, cut_short=()):
        files, cut_short = dict(files), set(cut_short)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the name http.server calls)
                name = self.path.rsplit("/", 1)[-1]
                if name not in files:
                    self.send_error(404)
                    return
                body = files[name]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                # A connection that drops halfway: the client sees a short read.
                self.wfile.write(body[: len(body) // 2] if name in cut_short else body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/mnist/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gz_files(raw_mnist):
    return {f"{name}.gz": gzip.compress(data, 1) for name, data in raw_mnist.items()}


def test_download_into_the_cache(tmp_path, gz_files, monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    mirror = Mirror(gz_files)
    cache = tmp_path / "cache"
    try:
        (_, y_train), (_, y_test) = load_mnist(cache_dir=cache, mirrors=[mirror.url])
    finally:
        mirror.close()
    assert (len(y_train), len(y_test)) == (60000, 10000)
    assert sorted(path.name for path in cache.iterdir()) == sorted(gz_files)
    # Second call: read from the cache, no mirror needed.
    (_, y_train_again), _ = load_mnist(cache_dir=cache, mirrors=[])
    assert (y_train_again == y_train).all()


def test_interrupted_download_leaves_no_partial_file(tmp_path, gz_files, monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    mirror = Mirror(gz_files, cut_short={f"{TRAIN_IMAGES}.gz"})
    cache = tmp_path / "cache"
    try:
        with pytest.raises(MnistError) as raised:
            load_mnist(cache_dir=cache, mirrors=[mirror.url])
    finally:
        mirror.close()
    message = str(raised.value)
    assert message.startswith(f"MNIST not found in {cache} and the download failed:")
    assert f"{mirror.url}{TRAIN_IMAGES}.gz: " in message
    assert "set MNIST_DIR" in message
    assert list(cache.iterdir()) == []


def test_corrupt_download_is_rejected_and_removed(tmp_path, gz_files, monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    gz_files[f"{TRAIN_IMAGES}.gz"] = gzip.compress(idx_bytes(2051, (1, 28, 28), b"x"))
    mirror = Mirror(gz_files)
    cache = tmp_path / "cache"
    try:
        with pytest.raises(MnistError, match="header says shape \\(1, 28, 28\\)"):
            load_mnist(cache_dir=cache, mirrors=[mirror.url])
    finally:
        mirror.close()
    assert list(cache.iterdir()) == []


def test_unreachable_mirror(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setattr(mnist_data, "DOWNLOAD_TIMEOUT_SECONDS", 5)
    # Port 9 on loopback ("discard"): nothing listens, the connection is refused.
    with pytest.raises(MnistError, match="Connection refused"):
        load_mnist(cache_dir=tmp_path / "cache", mirrors=["http://127.0.0.1:9/"])
    assert list((tmp_path / "cache").iterdir()) == []


def test_default_cache_follows_xdg(monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere")
    assert mnist_data.default_cache_dir() == Path(
        "/somewhere/keras-vs-pytorch-lab/mnist"
    )
