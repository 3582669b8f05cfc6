"""Mock observations of a simulated universe: lines of sight (:mod:`.lines_of_sight`),
survey-realistic sky fields (:mod:`.fields`), and training sets (:mod:`.build`, written
and read by :mod:`.trainingset`)."""

from surveymass.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    ".build": ["TrainingSetConfig", "make_training_set"],
    ".fields": ["FieldMaker", "MockConfig", "MockField"],
    ".lines_of_sight": ["HaloDirections", "MassBins"],
    ".trainingset": ["SPLITS", "read_manifest", "read_training_set"],
})
