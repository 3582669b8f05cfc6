"""Mock observations of a simulated universe: their settings (:mod:`.config`), lines of
sight (:mod:`.lines_of_sight`), survey-realistic sky fields (:mod:`.fields`), and training
sets (:mod:`.build`, written and read by :mod:`.trainingset`)."""

from surveymass.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    ".build": ["make_training_set"],
    ".config": ["MassBins", "MockConfig", "TrainingSetConfig"],
    ".fields": ["FieldMaker", "MockField"],
    ".lines_of_sight": ["HaloDirections"],
    ".trainingset": ["SPLITS", "read_manifest", "read_training_set"],
})
