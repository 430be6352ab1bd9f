"""Administration: partnerships (site administrators), users and organisations (partnership administrators)."""
