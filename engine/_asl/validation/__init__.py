"""The rules of ASL definitions, as AWS's CreateStateMachine checks them.

Organised like the spec: :mod:`.fields` holds the tables of which fields each state type
allows, :mod:`.machine` the scopes and transitions, :mod:`.states` one state, and one
module per family of fields (:mod:`.choice`, :mod:`.task`, :mod:`.nested` for Parallel and
Map, :mod:`.retry_catch`, :mod:`.templates`). Use :mod:`engine._asl.validate`.
"""
