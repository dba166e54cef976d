// Package privacy is what Hearth knows and promises about the data it handles: the data
// inventory (every kind of data the gateway keeps or sends, its class, purpose,
// retention and recipients), the owner's consent per purpose, and the deletion of all
// user data on the device and at the vendor.
//
// The wire types shared with the vendor cloud (purposes, kinds of documents, consent
// documents, erase requests and receipts) live here too, so both ends parse the same
// contract.
package privacy
