"""Keyword-spotting models: bodies built from asr_cnn.layers, assembled by KeywordSpotter."""

from asr_cnn.models.cnn2d import CNN2d
from asr_cnn.models.ds_cnn import DSCNN
from asr_cnn.models.res8 import Res8
from asr_cnn.models.speech_embedding import SpeechEmbedding
from asr_cnn.models.speech_embedding_tdnn import SpeechEmbeddingTDNN
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.models.tc_resnet8 import TCResNet8
from asr_cnn.models.tdnn import TDNNBody

__all__ = ["CNN2d", "DSCNN", "KeywordSpotter", "Res8", "SpeechEmbedding", "SpeechEmbeddingTDNN", "TCResNet8", "TDNNBody"]
