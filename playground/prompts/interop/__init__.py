"""Other tools' prompt formats: importing theirs, exporting for theirs."""
