"""Demo data: Glasgow City's 2019 MSG self-evaluation and Dundee's carers delivery plan."""
