"""Reports of an assessment: terminal, HTML, patient handout."""
