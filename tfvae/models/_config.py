"""Config helpers shared by the models' `from_config`."""

import keras


def deserialize_layers(config, keys):
    """A copy of `config` whose entries under `keys` that are serialised
    Keras objects (dicts) are deserialised; other values stay as they are."""
    config = dict(config)
    for key in keys:
        if isinstance(config.get(key), dict):
            config[key] = keras.saving.deserialize_keras_object(config[key])
    return config
