"""Turn policy documents into searchable passages and search them."""
