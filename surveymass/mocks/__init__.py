"""Mock observations of a simulated universe: lines of sight (:mod:`.lines_of_sight`),
survey-realistic sky fields (:mod:`.fields`), and training sets (:mod:`.build`, written
and read by :mod:`.trainingset`)."""

from surveymass.mocks.build import TrainingSetConfig, make_training_set
from surveymass.mocks.fields import FieldMaker, MockConfig, MockField
from surveymass.mocks.lines_of_sight import HaloDirections, MassBins
from surveymass.mocks.trainingset import SPLITS, read_manifest, read_training_set

__all__ = [
           "SPLITS",
           "FieldMaker",
           "HaloDirections",
           "MassBins",
           "MockConfig",
           "MockField",
           "TrainingSetConfig",
           "make_training_set",
           "read_manifest",
           "read_training_set",
]
