"""Map layers: one contract, a name → class registry, YAML definitions.

A definition (``layers/definitions/*.yaml``) names the table, geometry, fields, filters, style,
popup and label; it drives the map, the feature API and (later) export alike.
"""
from layers.base import Layer, LayerQuery
from layers.registry import LAYER_CLASSES, get_layer, load_layers, register

__all__ = ["Layer", "LayerQuery", "LAYER_CLASSES", "register", "load_layers", "get_layer"]
