"""Load MNIST from the four official IDX files, verified.

Both programs use this one loader, so both frameworks see exactly the same
bytes. It returns what `keras.datasets.mnist.load_data()` returns:
`(x_train, y_train), (x_test, y_test)` as uint8 NumPy arrays of shapes
(60000, 28, 28), (60000,), (10000, 28, 28) and (10000,).

Where it looks, in order:
1. the folder given as `data_dir` (the programs' `--data-dir`) or in the
   `MNIST_DIR` environment variable; nothing is downloaded into that folder;
2. the cache folder, `~/.cache/keras-vs-pytorch-lab/mnist`;
3. the official mirrors (the ones torchvision uses), downloaded into the cache.

Each file may be gzipped or not. Its IDX header is checked (magic number,
dimensions, item count) and so is the SHA-256 of its uncompressed bytes.
"""

import gzip
import hashlib
import os
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

# SHA-256 of each uncompressed file. They hold for any correct copy of MNIST,
# whatever gzip settings compressed it (the .gz bytes can differ).
FILES = {
    "train-images-idx3-ubyte": (
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        (60000, 28, 28),
    ),
    "train-labels-idx1-ubyte": (
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        (60000,),
    ),
    "t10k-images-idx3-ubyte": (
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        (10000, 28, 28),
    ),
    "t10k-labels-idx1-ubyte": (
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        (10000,),
    ),
}

# An IDX magic number is 0x00 0x00, a type code (0x08: unsigned byte) and the
# number of dimensions: 2049 for a label file, 2051 for an image file.
UNSIGNED_BYTE = 0x08
# A gzip stream starts with these two bytes, an IDX file with two zeros.
GZIP_MAGIC = b"\x1f\x8b"

DOWNLOAD_TIMEOUT_SECONDS = 60


class MnistError(Exception):
    """MNIST is missing, corrupt or could not be downloaded."""


def default_cache_dir():
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "keras-vs-pytorch-lab" / "mnist"


def load_mnist(data_dir=None, cache_dir=None, mirrors=MIRRORS):
    """Return `(x_train, y_train), (x_test, y_test)`, verified."""
    data_dir = data_dir or os.environ.get("MNIST_DIR")
    if data_dir:
        folder = Path(data_dir).expanduser()
        paths = {name: find_file(folder, name) for name in FILES}
        missing = [name for name, path in paths.items() if path is None]
        if missing:
            raise MnistError(
                f"MNIST not found: {folder} (from --data-dir or MNIST_DIR) "
                f"has no {', '.join(missing)} (plain or .gz). Put the four "
                "official IDX files there, or unset MNIST_DIR to download "
                f"them into {cache_dir or default_cache_dir()}."
            )
    else:
        folder = Path(cache_dir) if cache_dir else default_cache_dir()
        paths = {
            name: find_file(folder, name) or download(name, folder, mirrors)
            for name in FILES
        }
    arrays = [read_idx(paths[name], name) for name in FILES]
    x_train, y_train, x_test, y_test = arrays
    return (x_train, y_train), (x_test, y_test)


def find_file(folder, name):
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def read_idx(path, name):
    """Parse one IDX file, gzipped or not, and check it against `FILES`."""
    expected_sha256, expected_shape = FILES[name]
    try:
        data = path.read_bytes()
        if data[:2] == GZIP_MAGIC:
            data = gzip.decompress(data)
    except (OSError, EOFError) as error:
        raise MnistError(
            f"{path}: cannot be read ({error}); the file is truncated or "
            "corrupt. Delete it and download it again."
        ) from error

    dimensions = len(expected_shape)
    expected_magic = UNSIGNED_BYTE << 8 | dimensions
    header_size = 4 + 4 * dimensions
    if len(data) < header_size:
        raise MnistError(
            f"{path}: {len(data)} bytes is too short for an IDX header "
            f"({header_size} bytes); the file is truncated."
        )
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        raise MnistError(
            f"{path}: magic number {magic}, expected {expected_magic} "
            f"({name} is an IDX file of {dimensions} dimension(s))."
        )
    shape = tuple(
        int.from_bytes(data[4 + 4 * axis : 8 + 4 * axis], "big")
        for axis in range(dimensions)
    )
    if shape != expected_shape:
        raise MnistError(
            f"{path}: header says shape {shape}, expected {expected_shape}."
        )
    expected_size = header_size + int(np.prod(shape))
    if len(data) != expected_size:
        raise MnistError(
            f"{path}: {len(data)} bytes, expected {expected_size} for shape "
            f"{shape}; the file is truncated or has trailing data."
        )
    sha256 = hashlib.sha256(data).hexdigest()
    if sha256 != expected_sha256:
        raise MnistError(
            f"{path}: SHA-256 of the uncompressed data is {sha256}, expected "
            f"{expected_sha256}. The file is corrupt or not the official "
            "MNIST; replace it with a good copy."
        )
    # A copy, so the arrays are writable like the ones Keras' loader returns.
    return (
        np.frombuffer(data, np.uint8, offset=header_size).reshape(shape).copy()
    )


def download(name, folder, mirrors):
    """Download `name`.gz into `folder`; leave nothing behind on failure."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.gz"
    errors = []
    for mirror in mirrors:
        url = f"{mirror}{name}.gz"
        # Write to a temporary name in the same folder, then rename: an
        # interrupted download never leaves a file that looks complete.
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
        try:
            with (
                os.fdopen(handle, "wb") as out,
                urllib.request.urlopen(
                    url, timeout=DOWNLOAD_TIMEOUT_SECONDS
                ) as response,
            ):
                while chunk := response.read(1 << 20):
                    out.write(chunk)
            read_idx(Path(temporary), name)
            os.replace(temporary, target)
            return target
        except (OSError, MnistError) as error:
            errors.append(f"{url}: {error}")
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
    raise MnistError(
        f"MNIST not found in {folder} and the download failed:\n  "
        + "\n  ".join(errors)
        + "\nConnect to the internet and try again, or put the four official "
        "IDX files in a folder and set MNIST_DIR to it."
    )
