"""Loading submissions in the parent: files, folders, notebooks; never imports student code."""
