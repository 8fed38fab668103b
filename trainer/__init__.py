"""The bundled torch.distributed pretraining trainer - arrives with its issue."""
