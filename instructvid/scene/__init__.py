"""3D reconstruction and grounding of narrated videos (thesis ch. 5). Not implemented yet."""
