"""Life-event navigation (ライフイベント): per-municipality questionnaires and procedures."""
