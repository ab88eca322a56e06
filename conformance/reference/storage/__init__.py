"""The reference store's parts, one module per resource; :class:`conformance.reference.store.Store` composes them."""
