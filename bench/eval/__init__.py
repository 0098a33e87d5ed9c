"""Answer-quality evaluation: questions over generated data, answers computed by pandas."""
