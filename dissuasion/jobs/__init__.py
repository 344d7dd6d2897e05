"""Jobs run outside the web workers (a push committed from the page or pushed big through the API): a table of
jobs that the scheduler process and any `flask --app app worker` claim, run, and record (state, progress, result)."""
