"""Individual evacuation plans (個別避難計画) and the support-needed register."""
