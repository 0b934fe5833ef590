"""The Slack front end: a slack-bolt app that answers with the shared answerer, in threads, with citations."""
