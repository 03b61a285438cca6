"""tra_core: the shared layer of myunisoft-bridge.

``tra_core.domain`` and ``tra_core.tra`` are pure (no I/O, no AWS, no HTTP); the adapters
``tra_core.myunisoft`` and ``tra_core.store`` sit at the edge.
"""

__version__ = "0.1.0"
