"""A stable 64-bit hash of text values, vectorised with numpy.

The value is the one `pandas.util.hash_array` gives an object array of strings (SipHash-2-4 of the
UTF-8 bytes with pandas' fixed key, then a 64-bit finaliser), so the row hashes of processed tables
stay what they were when pandas computed them; ingest no longer imports pandas for it (about a
fifth of a second at start-up). SipHash reads 8 bytes per step: the values are sorted by how many
steps they need, so each step works on the values still unfinished, a prefix of the sorted array.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

KEY = b"0123456789123456"  # pandas' default hash key (`pandas.core.util.hashing._default_hash_key`)
_K0, _K1 = (np.uint64(int.from_bytes(KEY[i : i + 8], "little")) for i in (0, 8))
_INIT = (0x736F6D6570736575, 0x646F72616E646F6D, 0x6C7967656E657261, 0x7465646279746573)
_U64 = np.uint64


def _rotl(x: np.ndarray, bits: int) -> np.ndarray:
    return (x << _U64(bits)) | (x >> _U64(64 - bits))


def _sip_round(v0: np.ndarray, v1: np.ndarray, v2: np.ndarray, v3: np.ndarray) -> None:
    """One SipRound, in place."""
    v0 += v1
    v1[:] = _rotl(v1, 13)
    v1 ^= v0
    v0[:] = _rotl(v0, 32)
    v2 += v3
    v3[:] = _rotl(v3, 16)
    v3 ^= v2
    v0 += v3
    v3[:] = _rotl(v3, 21)
    v3 ^= v0
    v2 += v1
    v1[:] = _rotl(v1, 17)
    v1 ^= v2
    v2[:] = _rotl(v2, 32)


def _compress(state: tuple[np.ndarray, ...], word: np.ndarray) -> None:
    v0, v1, v2, v3 = state
    v3 ^= word
    _sip_round(v0, v1, v2, v3)
    _sip_round(v0, v1, v2, v3)
    v0 ^= word


def _finalise(hashes: np.ndarray) -> np.ndarray:
    """pandas' redistribution of the 64-bit SipHash values (`_hash_ndarray`)."""
    hashes ^= hashes >> _U64(30)
    hashes *= _U64(0xBF58476D1CE4E5B9)
    hashes ^= hashes >> _U64(27)
    hashes *= _U64(0x94D049BB133111EB)
    hashes ^= hashes >> _U64(31)
    return hashes


def hash_strings(values: pa.Array) -> np.ndarray:
    """One uint64 per value of a string array without nulls, equal to `pandas.util.hash_array`
    of the same values as Python strings."""
    if len(values) == 0:
        return np.empty(0, np.uint64)
    if values.null_count:
        raise ValueError("hash_strings takes values without nulls")
    values = pc.cast(values, pa.large_string()).combine_chunks() if isinstance(values, pa.ChunkedArray) else \
        pc.cast(values, pa.large_string())
    _, offsets_buffer, data_buffer = values.buffers()
    offsets = np.frombuffer(offsets_buffer, np.int64)[values.offset : values.offset + len(values) + 1]
    data = np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else np.empty(0, np.uint8)
    data = np.concatenate([data[offsets[0] : offsets[-1]], np.zeros(8, np.uint8)])  # 8 zero bytes past the end
    starts, lengths = offsets[:-1] - offsets[0], np.diff(offsets)
    words = np.ndarray((len(data) - 7,), "<u8", data, 0, (1,))  # the 8 bytes from every byte position on
    blocks = lengths // 8
    # most steps first, so the unfinished values are a prefix; a cell has at most 16,384 blocks
    # (MAX_CELL_CHARS characters of 4 bytes), so int16 keys and numpy's radix sort
    order = np.argsort(-blocks.astype(np.int16), kind="stable")
    starts, lengths, blocks = starts[order], lengths[order], blocks[order]
    state = tuple(np.full(len(values), init, np.uint64) ^ key for init, key in zip(_INIT, (_K0, _K1, _K0, _K1),
                                                                                    strict=True))
    unfinished = np.searchsorted(-blocks, -np.arange(int(blocks[0])), side="left")  # values with more blocks
    for step, count in enumerate(unfinished.tolist()):
        _compress(tuple(v[:count] for v in state), words[starts[:count] + 8 * step])
    rest = (lengths % 8).astype(np.uint64)
    tail = words[starts + 8 * blocks] & ((_U64(1) << (rest * _U64(8))) - _U64(1))
    tail |= (lengths.astype(np.uint64) & _U64(0xFF)) << _U64(56)
    _compress(state, tail)
    v0, v1, v2, v3 = state
    v2 ^= _U64(0xFF)
    for _ in range(4):
        _sip_round(v0, v1, v2, v3)
    hashes = np.empty(len(values), np.uint64)
    hashes[order] = _finalise(v0 ^ v1 ^ v2 ^ v3)
    return hashes
