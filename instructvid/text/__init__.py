"""Text: step components (stemmed words) and text representations."""
