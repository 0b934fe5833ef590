"""PolicyBot's front ends and the answerer they share."""
