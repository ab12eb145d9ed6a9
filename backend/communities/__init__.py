"""Town associations and voluntary disaster-prevention organisations (町内会・自主防災組織)."""
