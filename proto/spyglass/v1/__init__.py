"""Generated gRPC modules of the Spyglass query API, version 1 (proto package ``spyglass.v1``).

The ``*.proto`` files beside this file are the source; the ``*_pb2.py``, ``*_pb2.pyi`` and
``*_pb2_grpc.py`` modules are generated from them by ``make proto`` and must not be edited by
hand. They import each other as ``from spyglass.v1 import common_pb2``, so this folder is
installed as the import package ``spyglass.v1`` (see ``COMPONENTS`` in ``setup.py``).
There is deliberately no ``proto/spyglass/__init__.py``: ``spyglass`` is the core package.
"""
