"""Rewriting a GGUF's Q6_K tensors as Q8_0, so several conversations decode faster at once.

llama.cpp's CPU backend multiplies a batch (one token from each of several parallel
slots) against Q4_K weights in repacked, interleaved blocks, and against Q8_0 weights
with its tiled kernels: each block of weights is read once for the whole batch. Q6_K
tensors, in this build on AVX2, batch far less well (measured below, not read in ggml's
source; turning the Q4_K repacking off takes 4 slots from 1.43x to 1.19x). In Qwen2.5-Coder
1.5B Q4_K_M those are the output layer and half of the feed-forward down projections,
28% of the weights a token passes through. Written as Q8_0 they batch like the rest.

Measured with ``samantha bench model`` on this project's 2-core AVX2 machine (4 streams
of 96 tokens, one and four streams measured in turn every round; seven runs against three
of the file as packaged): four streams through Samantha 27.6-29.5 tok/s against 24.0-25.6,
a speedup over one stream of 1.53-1.64x against 1.26-1.32x (the engine alone: 1.47-1.62x
against 1.32-1.36x). One stream pays a little for the bigger file: 18.5 tok/s against
19.3 on average (17.4-19.5 against 19.0-19.6), the engine alone.

Q8_0 is the finer of the two (255 levels for each block of 32 weights against Q6_K's 64
for each block of 16), so the weights are the model's own to within a fraction of Q6_K's
own rounding; the file grows by 9%.

The rewrite is deterministic (the pinned ``gguf`` package, ggml's own reader and writer,
quantises as ggml does), so the catalog pins the result's sha256 too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from samantha.errors import ConfigError

Progress = Callable[[int, int], None]
ROWS = 4096  # rows dequantised at a time: at most tens of MB of floats, not a whole tensor


def _copy_metadata(reader: Any, writer: Any) -> None:
    import gguf

    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue  # the header's own counts, and the key the writer writes itself
        if field.name == "general.alignment":
            writer.add_custom_alignment(int(field.contents()))
            continue
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)


def _wide(tensor: Any, into: Any) -> Any:
    """The tensor's rows rewritten in the ``into`` quantisation, a part at a time."""
    from gguf import quants

    rows = tensor.data.reshape(-1, tensor.data.shape[-1])
    parts = [
        quants.quantize(quants.dequantize(rows[start : start + ROWS], tensor.tensor_type), into)
        for start in range(0, len(rows), ROWS)
    ]
    return np.concatenate(parts)


def widen(
    source: Path,
    target: Path,
    kinds: Sequence[str] = ("Q6_K",),
    into: str = "Q8_0",
    progress: Progress | None = None,
) -> int:
    """Write ``source`` to ``target`` with its tensors of ``kinds`` stored as ``into``;
    everything else (metadata, the other tensors, their order) is copied as it is. Return
    how many tensors were rewritten. A file that is not GGUF raises ``ConfigError``, and
    nothing is left at ``target`` when anything fails."""
    import gguf

    try:
        reader = gguf.GGUFReader(source)
    except (ValueError, OSError, IndexError) as exc:
        raise ConfigError(f"{source} is not a GGUF model file this can read: {exc}") from exc
    q = gguf.GGMLQuantizationType
    wide = {q[k] for k in kinds}
    out = q[into]
    arch = reader.fields.get("general.architecture")
    if arch is None:
        raise ConfigError(f"{source} names no architecture; it is not a model file")
    total = sum(int(t.n_bytes) for t in reader.tensors)
    done = rewritten = 0
    try:
        writer = gguf.GGUFWriter(target, str(arch.contents()))
        _copy_metadata(reader, writer)
        for t in reader.tensors:
            shape = [int(n) for n in reversed(t.shape.tolist())]  # numpy's order
            kind = out if t.tensor_type in wide else t.tensor_type
            block, size = gguf.GGML_QUANT_SIZES[kind]
            nbytes = int(np.prod(shape)) // block * size
            if t.tensor_type in wide or t.data.dtype == np.uint8:  # the writer takes bytes
                shape[-1] = shape[-1] // block * size
                writer.add_tensor_info(t.name, shape, np.dtype(np.uint8), nbytes, kind)
            else:
                writer.add_tensor_info(t.name, shape, t.data.dtype, nbytes, kind)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for t in reader.tensors:
            if t.tensor_type in wide:
                writer.write_tensor_data(_wide(t, out))
                rewritten += 1
            else:
                writer.write_tensor_data(t.data)
            done += int(t.n_bytes)
            if progress:
                progress(done, total)
        writer.close()
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return rewritten
