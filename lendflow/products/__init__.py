"""Products: specs checked, imported and activated as versions a loan is made under."""
