print("oxpecker")
