"""What the export path needs from ``transformers``, across its 4.x and 5.x APIs.

* ``image_features(output)``: ``get_image_features`` returns the pooled image embedding as a tensor
  in transformers 4.x and, from 5.x, the vision tower's output object, whose ``pooler_output`` is
  that same embedding.
* ``ensure_pruning_helpers()``: HVF's Synchformer (its ``modeling_ast.py``) imports
  ``find_pruneable_heads_and_indices`` from ``transformers.pytorch_utils``, which 5.x removed. It is
  only used to prune attention heads, never at inference, but the import must succeed: where it is
  missing, :func:`find_pruneable_heads_and_indices` (written here) is put in its place.
"""

import torch


def image_features(output):
    """The pooled features from a ``get_image_features`` result of either API."""
    if isinstance(output, torch.Tensor):
        return output
    pooled = getattr(output, "pooler_output", None)
    if pooled is None and isinstance(output, (tuple, list)) and len(output) > 1:
        pooled = output[1]  # return_dict=False: (last_hidden_state, pooler_output, ...)
    if pooled is None:
        raise TypeError("get_image_features returned %s without pooled features" % type(output).__name__)
    return pooled


def find_pruneable_heads_and_indices(heads, n_heads, head_size, already_pruned_heads):
    """For pruning ``heads`` (indices in the original numbering) from a layer that has already lost
    ``already_pruned_heads``: the heads still to prune, and the flat indices of the rows of the
    (already pruned) projection that are kept."""
    to_prune = set(heads) - set(already_pruned_heads)
    keep = torch.ones(n_heads, head_size, dtype=torch.bool)
    for head in to_prune:
        shift = sum(1 for p in already_pruned_heads if p < head)  # position after earlier pruning
        keep[head - shift] = False
    return to_prune, torch.nonzero(keep.reshape(-1)).reshape(-1).long()


def ensure_pruning_helpers():
    """Puts :func:`find_pruneable_heads_and_indices` into ``transformers.pytorch_utils`` where that
    version lacks it (5.x). Returns True when it had to."""
    import transformers.pytorch_utils as pu
    if hasattr(pu, "find_pruneable_heads_and_indices"):
        return False
    pu.find_pruneable_heads_and_indices = find_pruneable_heads_and_indices
    return True
