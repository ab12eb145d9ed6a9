"""Pure pedestrian routing for evacuation: walk graph building, snapping and safe routing."""
